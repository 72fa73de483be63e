from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    """Values every page template needs: the site's name and the current role."""
    return {"SITE_NAME": settings.SITE_NAME}
