"""What a locked-out client sees after too many failed logins (django-axes' lockout hook).

API clients get JSON in the API's error shape; people get a page. Both say in plain words why
and for how long, instead of axes' default English text.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

LOCKOUT_STATUS = 429


def lockout_message() -> str:
    minutes = round(float(settings.AXES_COOLOFF_TIME) * 60)
    return _("登录失败次数过多，已暂时锁定，请%(minutes)s分钟后再试") % {"minutes": minutes}


def lockout_response(request: HttpRequest, original_response: Any = None,
                     credentials: Any = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": lockout_message()}, status=LOCKOUT_STATUS,
                            json_dumps_params={"ensure_ascii": False})
    return render(request, "core/lockout.html", {"message": lockout_message()},
                  status=LOCKOUT_STATUS)
