"""Login lockout (django-axes, with the platform's handler and lockout answer).

Two rules, both over the cool-off period (``AXES_COOLOFF_TIME``):

- **The pair** (username, client address) is locked after ``AXES_FAILURE_LIMIT`` failures
  (``TONGBAN_LOGIN_FAILURE_LIMIT``). Only that pair: the same username from another address
  still logs in, so nobody can lock a real user out by failing on their name.
- **An address spraying names** is throttled: once it has failed on
  ``LOGIN_ADDRESS_USERNAME_LIMIT`` different usernames (existing or not), no login from it is
  tried until the cool-off ends. A person mistyping their own name does not get there.

API clients get JSON in the API's error shape; people get a page. Both say which rule applied
and for how long, instead of axes' default English text.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

LOCKOUT_STATUS = 429
PAIR = "pair"
ADDRESS = "address"


def client_address(request: HttpRequest) -> str | None:
    """The client's address for the lockout: ``REMOTE_ADDR``, or behind
    ``TRUSTED_PROXY_COUNT`` proxies the address the outermost of them saw.

    Each proxy appends the address it was connected from to X-Forwarded-For, so with N trusted
    proxies the client is the N-th entry from the right; entries further left were sent by the
    client itself and may be forged. Too few entries: the request did not come through the
    proxies, and ``REMOTE_ADDR`` is the client.
    """
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                 if a.strip()]
    if count > 0 and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def _cooloff() -> dt.timedelta:
    return dt.timedelta(hours=float(settings.AXES_COOLOFF_TIME))


def address_usernames(ip_address: str | None) -> int:
    """How many different usernames the address failed on within the cool-off period."""
    from axes.models import AccessAttempt

    if not ip_address:
        return 0
    return (AccessAttempt.objects.filter(ip_address=ip_address,
                                         attempt_time__gte=timezone.now() - _cooloff())
            .values("username").distinct().count())


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler (which, configured with the pair as its one lockout parameter,
    counts failures per username and address) plus the throttle of an address spraying names.
    The rule that applied is left on the request for :func:`lockout_response`."""

    def is_locked(self, request: Any, credentials: dict[str, Any] | None = None) -> bool:
        if super().is_locked(request, credentials):
            request.tongban_lockout = PAIR
            return True
        if self._spraying(request, credentials):
            request.tongban_lockout = ADDRESS
            return True
        return False

    def user_login_failed(self, sender: Any, credentials: dict[str, Any],
                          request: Any = None, **kwargs: Any) -> None:
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is None:
            return
        if getattr(request, "axes_locked_out", False):
            request.tongban_lockout = getattr(request, "tongban_lockout", PAIR)
        elif address_usernames(request.axes_ip_address) >= settings.LOGIN_ADDRESS_USERNAME_LIMIT:
            # This failure was the address's last allowed name: it is throttled from now on.
            request.axes_locked_out = True
            request.tongban_lockout = ADDRESS

    def _spraying(self, request: Any, credentials: dict[str, Any] | None) -> bool:
        ip_address = getattr(request, "axes_ip_address", None)
        return address_usernames(ip_address) >= settings.LOGIN_ADDRESS_USERNAME_LIMIT


def lockout_message(reason: str = PAIR) -> str:
    minutes = round(float(settings.AXES_COOLOFF_TIME) * 60)
    if reason == ADDRESS:
        return _("当前网络地址尝试登录的账号过多，已暂时限制从该地址登录，请%(minutes)s分钟后再试") % {
            "minutes": minutes}
    return _("该账号在当前网络地址登录失败次数过多，已暂时锁定，请%(minutes)s分钟后再试；"
             "从其他网络地址登录不受影响") % {"minutes": minutes}


def lockout_response(request: HttpRequest, original_response: Any = None,
                     credentials: Any = None) -> HttpResponse:
    message = lockout_message(getattr(request, "tongban_lockout", PAIR))
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=LOCKOUT_STATUS,
                            json_dumps_params={"ensure_ascii": False})
    return render(request, "core/lockout.html", {"message": message}, status=LOCKOUT_STATUS)
