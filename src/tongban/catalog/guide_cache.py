"""Published guides rendered once per version.

A published :class:`ItemVersion` never changes (a change is a new version), so what its guide
page and its API answer show of it can be rendered once and kept, keyed by the version's id.
What is *not* frozen with the version — the department's name, halls, windows and their office
periods shown under "到哪里办" — is covered by a *generation* number in the cache, bumped when one
of those rows is saved or deleted, and by a time limit (:data:`TIMEOUT`): with a per-process
cache (Django's default local memory) another process sees such an edit at the latest after the
time limit; with a shared cache (Redis) at once.

Only the item's own part is kept: the page around it (navigation, the logged-in user's name and
role, messages) is rendered on every request, so no one's page is ever served to someone else.
Keys also carry the language, since labels and headings are translated.

For a visitor with nothing of their own on the page — no session, no pending messages, no query
string — the whole page is the same for every such visitor of one language and display mode but
for the CSRF token, so :func:`kept_page` keeps the whole page too, with a random slot where the
token goes, and puts each request's own token into it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import translation

from tongban.core import prepared
from tongban.core.context_processors import elder_mode

from .models import ItemVersion, VersionStatus

TIMEOUT = 300  # seconds; bounds how stale halls and department names may be in another process
_GENERATION_KEY = "catalog:guide:generation"


def generation() -> int:
    value = cache.get(_GENERATION_KEY)
    if value is None:
        # Never 0 again after a bump was lost with a restart: a fresh start of the count is safe
        # because every entry of the previous count expires within TIMEOUT anyway.
        cache.add(_GENERATION_KEY, 1, timeout=None)
        value = cache.get(_GENERATION_KEY, 1)
    return int(value)


def _incr() -> None:
    try:
        cache.incr(_GENERATION_KEY)
    except ValueError:  # not in the cache (yet): start a count above any a process may hold
        cache.set(_GENERATION_KEY, 2, timeout=None)


def bump(**_: Any) -> None:
    """Forget every kept guide (a department, hall, window or office period changed).

    Once now and once more at commit: a request that renders between the two would otherwise
    keep what the committing transaction is about to change."""
    _incr()
    transaction.on_commit(_incr)


# Compiled once (the ORM would build this SQL anew on every request, which costs more than
# running it).
_published_version = prepared.Values(lambda code: ItemVersion.objects.filter(
    item__implementation_code=code, status=VersionStatus.PUBLISHED).order_by().values_list("pk")[:1])


def published_version_id(code: str) -> int | None:
    """The id of the item's published version, by implementation code (one small query)."""
    value = _published_version.first(code)
    return None if value is None else int(value)


def key(kind: str, version_id: int) -> str:
    return f"catalog:{kind}:{version_id}:{translation.get_language() or ''}:{generation()}"


def get(kind: str, version_id: int) -> Any:
    return cache.get(key(kind, version_id))


def put(kind: str, version_id: int, value: Any) -> None:
    cache.set(key(kind, version_id), value, timeout=TIMEOUT)


def kept_for_code(kind: str, code: str, build: Callable[[ItemVersion], Any]) -> Any:
    """What ``build`` makes of the item's published version, kept per version and language.

    ``None`` when the item has no published version (the caller then explains why: not yet
    published, or cancelled). Both doors of a guide — the page and the API — go through here,
    so they keep the same things the same way.
    """
    version_id = published_version_id(code)
    if version_id is None:
        return None
    kept = get(kind, version_id)
    if kept is None:
        from . import selectors

        version = selectors.published_version_by_id(version_id)
        if version is None:  # unpublished between the two reads
            return None
        kept = build(version)
        put(kind, version_id, kept)
    return kept


def plain_visitor(request: HttpRequest) -> bool:
    """Whether nothing on the page is the visitor's own but the CSRF token: a GET or HEAD
    without a query string (the page links back to its own full path), no session (so not
    logged in, and no messages kept in one), no messages cookie."""
    cookies = request.COOKIES
    return (request.method in ("GET", "HEAD") and not request.META.get("QUERY_STRING")
            and settings.SESSION_COOKIE_NAME not in cookies
            and CookieStorage.cookie_name not in cookies
            and not request.user.is_authenticated)


def kept_page(request: HttpRequest, code: str,
              render_page: Callable[[ItemVersion, str], str]) -> HttpResponse | None:
    """The whole page of the item's published version for a :func:`plain_visitor`, kept per
    version, language and display mode (the elder-friendly mode), with this request's own CSRF
    token.

    ``render_page(version, slot)`` renders the page for the current request with ``slot`` as
    its CSRF token; the slot is random for each kept page, so no text of a guide can stand
    for it. ``None`` as :func:`kept_for_code`.
    """
    def build(version: ItemVersion) -> tuple[str, str]:
        slot = secrets.token_hex(16)
        return slot, render_page(version, slot)

    mode = "elder" if elder_mode(request) else "plain"
    kept = kept_for_code(f"page-{mode}", code, build)
    if kept is None:
        return None
    slot, page = kept
    # get_token also sends the CSRF cookie, as rendering {% csrf_token %} would.
    return HttpResponse(page.replace(slot, get_token(request)))


def connect() -> None:
    """Bump the generation whenever what a guide shows beside its version changes."""
    from tongban.organizations.models import Department, Division, Hall, OfficePeriod, Window

    from .models import Item

    senders: list[type[Model]] = [Department, Division, Hall, OfficePeriod, Window, Item]
    for sender in senders:
        post_save.connect(bump, sender=sender, dispatch_uid=f"guide_cache_save_{sender.__name__}")
        post_delete.connect(bump, sender=sender, dispatch_uid=f"guide_cache_delete_{sender.__name__}")
    m2m_changed.connect(bump, sender=Window.departments.through, dispatch_uid="guide_cache_windows")
