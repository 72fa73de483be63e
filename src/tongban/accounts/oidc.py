"""Login through the provincial identity provider (省统一身份认证) with OpenID Connect.

Switched on by ``TONGBAN_OIDC_ENABLED`` (settings ``OIDC_*``, read from ``TONGBAN_OIDC_*``).
mozilla-django-oidc does the protocol; this module only turns the provider's claims into a
citizen account, through ``services.account_from_identity`` (match by 公民身份号码, or create).
Which claim carries the name, the ID number and the mobile number differs between provinces:
``TONGBAN_OIDC_CLAIM_NAME`` / ``_ID_NUMBER`` / ``_PHONE`` name them.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from tongban.core.errors import AccessDenied, RuleViolation

from . import services

log = logging.getLogger(__name__)


def identity_from_claims(claims: dict[str, Any]) -> services.Identity:
    """The person the provider vouches for, read from its claims (names set in settings)."""
    names = settings.OIDC_CLAIMS

    def claim(key: str) -> str:
        value = claims.get(names[key])
        return str(value).strip() if value is not None else ""

    return services.Identity(name=claim("name"), id_number=claim("id_number"), phone=claim("phone"))


class ProvinceIdentityBackend(OIDCAuthenticationBackend):
    """Authenticates only OIDC callbacks, and only while OIDC is switched on."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.enabled = bool(settings.OIDC_ENABLED)
        if self.enabled:
            super().__init__(*args, **kwargs)
        else:  # the provider's settings may be absent: nothing to configure
            self.UserModel = get_user_model()

    def authenticate(self, request: Any, **kwargs: Any) -> Any:
        if not self.enabled:
            return None
        return super().authenticate(request, **kwargs)

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        identity = identity_from_claims(claims)
        return bool(identity.name and identity.id_number)

    def get_or_create_user(self, access_token: Any, id_token: Any, payload: Any) -> Any:
        claims = self.get_userinfo(access_token, id_token, payload)
        if not self.verify_claims(claims):
            log.warning("OIDC login refused: the provider sent no name or ID number")
            return None
        try:
            return services.account_from_identity(identity=identity_from_claims(claims))
        except (RuleViolation, AccessDenied) as exc:
            log.warning("OIDC login refused: %s", exc)
            return None
