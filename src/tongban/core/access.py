"""Who may use a view: every view declares it, and nothing undeclared is served.

Views are wrapped with :func:`public` or :func:`require_roles`. Both set ``view.access`` so
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
