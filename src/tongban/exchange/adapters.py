"""Provider adapters: how the platform fetches a record of a 接口 (interface) resource from the
provider's own system at the moment of an exchange call.

An adapter has one method, ``fetch(version, subject) -> dict | None``: the record's data items
by key, or None when the provider does not know the subject. The one real implementation,
:class:`HttpAdapter`, calls the resource version's ``endpoint_url`` over HTTP
(``GET <endpoint_url>?subject=<subject>``, JSON answer: an object of data items, optionally
under ``"items"``; 404 = unknown subject). Timeouts and every failure of the provider are one
:class:`AdapterError`, which the exchange answers as 502.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Protocol

from django.conf import settings
from django.utils.translation import gettext as _

from .models import ResourceVersion


class AdapterError(Exception):
    """The provider could not answer (unreachable, timed out, an error, not JSON)."""


class Adapter(Protocol):
    def fetch(self, version: ResourceVersion, subject: str) -> dict[str, Any] | None: ...


class HttpAdapter:
    """Calls the provider's HTTP endpoint with the subject; JSON in, data items out."""

    def __init__(self, timeout: float | None = None) -> None:
        self.timeout = timeout or settings.EXCHANGE_ADAPTER_TIMEOUT

    def fetch(self, version: ResourceVersion, subject: str) -> dict[str, Any] | None:
        if not version.endpoint_url:
            raise AdapterError(_("资源%(c)s未登记提供方接口地址") % {"c": version.resource.code})
        if urllib.parse.urlsplit(version.endpoint_url).scheme not in ("http", "https"):
            raise AdapterError(_("提供方接口地址不是网址"))
        separator = "&" if "?" in version.endpoint_url else "?"
        url = version.endpoint_url + separator + urllib.parse.urlencode({"subject": subject})
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read(1_000_000)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise AdapterError(_("提供方接口返回错误（HTTP %(s)s）") % {"s": exc.code}) from exc
        except TimeoutError as exc:
            raise AdapterError(_("提供方接口超时未响应")) from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):
                raise AdapterError(_("提供方接口超时未响应")) from exc
            raise AdapterError(_("无法连接提供方接口")) from exc
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise AdapterError(_("提供方接口返回的不是有效的JSON")) from exc
        if data is None:
            return None
        if not isinstance(data, dict):
            raise AdapterError(_("提供方接口返回的不是数据项对象"))
        items = data.get("items", data)
        if not isinstance(items, dict):
            raise AdapterError(_("提供方接口返回的不是数据项对象"))
        return items


def adapter_for(version: ResourceVersion) -> Adapter:
    """The adapter of an interface resource (one kind today: HTTP)."""
    return HttpAdapter()
