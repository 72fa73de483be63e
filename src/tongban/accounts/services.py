"""Accounts: API tokens and account creation."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from tongban.audit.services import audit_record

from .models import ApiToken, User


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def token_issue(*, request: HttpRequest | None, username: str, password: str) -> tuple[str, ApiToken] | None:
    """Check the credentials and issue a bearer token; None when they are wrong.

    Goes through Django's authenticate(), so django-axes counts failures and locks out.
    """
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        return None
    token = secrets.token_urlsafe(32)
    record = ApiToken.objects.create(
        user=user, digest=_digest(token),
        expires_at=timezone.now() + timedelta(hours=settings.API_TOKEN_TTL_HOURS),
    )
    audit_record(actor=user, action="auth.token_issued", object_type="user", object_id=user.pk)
    return token, record


def token_authenticate(token: str) -> Any:
    """The active user a bearer token belongs to, or None when unknown or expired."""
    now = timezone.now()
    record = (ApiToken.objects.select_related("user")
              .filter(digest=_digest(token), expires_at__gt=now).first())
    if record is None or not record.user.is_active:
        return None
    # Touch at most once a minute, so reads do not all turn into writes.
    if record.last_used_at is None or now - record.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    user: User = record.user
    return user
