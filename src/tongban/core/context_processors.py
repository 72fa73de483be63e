from typing import Any

from django.conf import settings
from django.http import HttpRequest


def elder_mode(request: HttpRequest) -> bool:
    """Whether the visitor switched the elder-friendly mode (适老化) on (a cookie)."""
    return request.COOKIES.get(settings.ELDER_MODE_COOKIE) == "1"


def site(request: HttpRequest) -> dict[str, Any]:
    """Values every page template needs: the site's name and whether the elder-friendly mode is
    on (the navigation for the role comes from ``accounts.navigation``)."""
    return {"SITE_NAME": settings.SITE_NAME, "ELDER_MODE": elder_mode(request)}
