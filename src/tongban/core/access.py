"""Who may use a view: every view declares it, and nothing undeclared is served.

Views are wrapped with :func:`public`, :func:`require_login`, :func:`require_roles` or (machines
of the operations side, `/metrics`) :func:`require_operator`. Each sets ``view.access`` so
that a test can walk the URL map and fail on any view without a declaration. The rule a role
grants lives in the services (``tongban.accounts.permissions``); these decorators only gate
entry to a page, the services re-check the concrete object.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

F = TypeVar("F", bound=Callable[..., HttpResponseBase])

ACCESS_ATTR = "access"


def public(view: F) -> F:
    """Anyone, logged in or not, may use the view."""
    setattr(view, ACCESS_ATTR, "public")
    return view


def require_roles(*roles: str) -> Callable[[F], F]:
    """Only logged-in users holding one of ``roles`` may use the view.

    Anonymous users are sent to the login page; logged-in users without the role get 403.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if getattr(user, "role", None) not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        setattr(wrapper, ACCESS_ATTR, "roles:" + ",".join(sorted(roles)))
        return wrapper  # type: ignore[return-value]  # wraps() keeps the signature

    return decorator


def require_login(view: F) -> F:
    """Any logged-in user may use the view (the view shows only their own data)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    setattr(wrapper, ACCESS_ATTR, "login")
    return wrapper  # type: ignore[return-value]  # wraps() keeps the signature


OPERATOR_ACCESS = "operator"


def operator_allowed(request: HttpRequest) -> bool:
    """Whether the request comes from the monitoring side: a bearer token equal to
    ``METRICS_TOKEN`` (when set), or a client address inside ``METRICS_ALLOWED_NETWORKS``.

    The address is the client's as the lockout sees it (``core.lockout.client_address``): behind
    nginx, with ``TRUSTED_PROXY_COUNT`` set, the address nginx saw — never nginx's own loopback
    address, which would open the endpoint to everybody."""
    import hmac
    import ipaddress

    from django.conf import settings

    from .lockout import client_address

    token = getattr(settings, "METRICS_TOKEN", "")
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(
            header.removeprefix("Bearer ").strip().encode(), token.encode()):
        return True
    address = client_address(request)
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False)
               for net in getattr(settings, "METRICS_ALLOWED_NETWORKS", ()))


def require_operator(view: F) -> F:
    """Machines of the operations side only (Prometheus): from an allowed network or with the
    metrics bearer token (:func:`operator_allowed`); anybody else gets 403. No login, no
    session: a scraper has neither."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not operator_allowed(request):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    setattr(wrapper, ACCESS_ATTR, OPERATOR_ACCESS)
    return wrapper  # type: ignore[return-value]  # wraps() keeps the signature
