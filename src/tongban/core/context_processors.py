from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .navigation import links_for


def site(request: HttpRequest) -> dict[str, Any]:
    """Values every page template needs: the site's name and the navigation for the role."""
    return {"SITE_NAME": settings.SITE_NAME, "nav_links": links_for(request)}
