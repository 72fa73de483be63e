"""Two-factor authentication of staff (django-otp: TOTP, with single-use recovery codes).

- Required for bureau administrators and supervisors (``REQUIRED_ROLES``) when
  ``TWO_FACTOR_REQUIRED`` is on (``TONGBAN_2FA_REQUIRED``, on by default outside debug mode):
  after the password they must enrol (first time) or give a code before any page but the
  two-factor pages and logout answers (``TwoFactorMiddleware``).
- Any other staff account may opt in on its account page; once enrolled, it is asked too.
- Enrolment shows a QR code (segno) for an authenticator app, confirms one code, then shows ten
  recovery codes once; each recovery code replaces a TOTP code one time.
- Enrolment, disabling and the use of a recovery code are audited. A wrong code counts as a
  failed login for the lockout (django-axes): after ``AXES_FAILURE_LIMIT`` the pair (account,
  address) is locked out and the session ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tongban.audit.services import audit_record
from tongban.core.errors import Problem, RuleViolation

from . import services
from .models import STAFF_ROLES, Role, User

if TYPE_CHECKING:
    from .permissions import Actor

REQUIRED_ROLES = {Role.ADMIN, Role.SUPERVISOR}
RECOVERY_CODES = 10
DEVICE_NAME = "tongban"
# Set at login: whether this session must pass the second factor (an enrolled account, or a
# role that requires it). Kept in the session so that no page pays a query for it.
SESSION_NEEDS = "tongban_2fa_needed"


def required_for(user: Actor) -> bool:
    """Whether the account must use a second factor (its role, and the setting)."""
    # A superuser holds the bureau administrator's powers whatever its role field says.
    return (bool(getattr(settings, "TWO_FACTOR_REQUIRED", True))
            and (getattr(user, "role", None) in REQUIRED_ROLES
                 or bool(getattr(user, "is_superuser", False))))


def may_enrol(user: Actor) -> bool:
    return getattr(user, "role", None) in STAFF_ROLES or bool(getattr(user, "is_superuser", False))


def enrolled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def enrolment_device(user: User) -> TOTPDevice:
    """The unconfirmed TOTP device the enrolment page shows (made once, kept until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def _wrong_code() -> RuleViolation:
    return RuleViolation([Problem("token", _("验证码不正确或已过期"))])


@transaction.atomic
def totp_enrol(*, actor: User, device: TOTPDevice, token: str) -> list[str]:
    """Confirm the enrolment device with one code from the app: it replaces any earlier one, and
    ten new recovery codes are made (returned: shown once); the account's API tokens issued
    before are revoked. Audited."""
    if device.user_id != actor.pk or device.confirmed:
        raise RuleViolation([Problem("token", _("请重新开始绑定"))])
    if not may_enrol(actor):
        raise RuleViolation([Problem("", _("只有工作人员账户可以启用双重验证"))])
    if not device.verify_token(token.strip()):
        raise _wrong_code()
    TOTPDevice.objects.filter(user=actor).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=actor).delete()
    static = StaticDevice.objects.create(user=actor, name=DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _i in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=c) for c in codes])
    # API tokens issued before (with the password alone, or with the replaced app) end here.
    services.tokens_revoke(actor=actor, user=actor, reason="2fa_enrolled")
    audit_record(actor=actor, action="user.2fa_enrolled", object_type="user", object_id=actor.pk,
                 detail={"method": "totp", "recovery_codes": RECOVERY_CODES})
    return codes


@transaction.atomic
def totp_disable(*, actor: User, second_factor_passed: bool) -> None:
    """Remove the account's second factor (not for a role that requires one). Audited.

    Only from a session that passed the second factor: with the password alone, whoever has
    it could otherwise switch the second factor off before being asked for it."""
    if required_for(actor):
        raise RuleViolation([Problem("", _("您的角色必须使用双重验证，不能停用"))])
    if not second_factor_passed:
        raise RuleViolation([Problem("", _("请先输入身份验证器的验证码，再停用双重验证"))])
    TOTPDevice.objects.filter(user=actor).delete()
    StaticDevice.objects.filter(user=actor).delete()
    audit_record(actor=actor, action="user.2fa_disabled", object_type="user", object_id=actor.pk)


@transaction.atomic
def totp_reset(*, actor: Actor, user: User) -> int:
    """Remove an account's second factor for a person who lost both the phone and the recovery
    codes (``tongban reset_2fa``, run by the operator as the system actor); a role that requires
    one enrols again at the next login. Its API tokens are revoked. Audited. Returns the devices
    removed."""
    removed = (TOTPDevice.objects.filter(user=user).delete()[0]
               + StaticDevice.objects.filter(user=user).delete()[0])
    services.tokens_revoke(actor=actor, user=user, reason="2fa_reset")
    audit_record(actor=actor, action="user.2fa_reset", object_type="user", object_id=user.pk,
                 detail={"username": user.get_username()})
    return removed


class SecondFactorNeeded(Exception):
    """The account has (or must have) a second factor and no valid code came with the password
    (the API's token exchange)."""


def needs_code(user: User) -> bool:
    """Whether a login of this account must give a code (required role, or enrolled)."""
    return required_for(user) or (may_enrol(user) and enrolled(user))


def use_recovery_code(static: StaticDevice, token: str) -> bool:
    """Consume one recovery code of ``static``; whether it was there. Of two requests giving the
    same code at the same moment exactly one gets it: the row count of the conditional DELETE
    decides (django-otp's own ``verify_token`` reads the code, then deletes the row it read, and
    both readers would pass). The device's throttling applies as in django-otp."""
    allowed, _info = static.verify_is_allowed()
    if not allowed:
        return False
    pk = static.token_set.filter(token=token).values_list("pk", flat=True).first()
    if pk is not None and StaticToken.objects.filter(pk=pk, device=static).delete()[0] == 1:
        static.throttle_reset(commit=False)
        static.set_last_used_timestamp(commit=False)
        static.save(update_fields=["throttling_failure_timestamp", "throttling_failure_count",
                                   "last_used_at"])
        return True
    static.throttle_increment()
    return False


def clean_code(token: str) -> str:
    return (token or "").strip().replace(" ", "")


def check_code(*, request: HttpRequest | None, user: User, token: str) -> Any:
    """The device a TOTP code or recovery code (consumed) belongs to, or None. A wrong code is
    a failed login for the lockout; a recovery code's use is audited. No code at all is not a
    failure (None, nothing counted): the caller asks for the code."""
    token = clean_code(token)
    if not token:
        return None
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(token):
            return device
    for static in StaticDevice.objects.filter(user=user, confirmed=True):
        if use_recovery_code(static, token):
            audit_record(actor=user, action="user.2fa_recovery_code_used", object_type="user",
                         object_id=user.pk, detail={"left": recovery_codes_left(user)})
            return static
    user_login_failed.send(sender=__name__, credentials={"username": user.get_username()},
                           request=request)
    return None


def verify(*, request: HttpRequest, user: User, token: str) -> bool:
    """Check a code (:func:`check_code`); on success the session is verified (django-otp)."""
    device = check_code(request=request, user=user, token=token)
    if device is None:
        return False
    otp_login(request, device)
    return True


@receiver(user_logged_in)
def _remember_need(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_NEEDS] = needs_code(user)


def verified(request: HttpRequest) -> bool:
    """Whether this session passed a second factor (django-otp's ``OTPMiddleware``)."""
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified is not None and is_verified())


def needs_second_factor(request: HttpRequest) -> bool:
    """Whether the logged-in user must still give (or set up) a second factor."""
    user = request.user
    if not user.is_authenticated or verified(request):
        return False
    return required_for(user) or bool(request.session.get(SESSION_NEEDS, False))


# Paths a session still waiting for its second factor may open.
_OPEN_PREFIXES = ("/accounts/2fa/", "/accounts/logout/", "/static/", "/i18n/", "/healthz",
                  "/readyz", "/metrics")


class TwoFactorMiddleware:
    """Sends a session that has passed the password but not the second factor to the code page
    (or, not yet enrolled, to the enrolment page); the API answers 403. After django-otp's
    ``OTPMiddleware``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(_OPEN_PREFIXES) or not needs_second_factor(request):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            from django.http import JsonResponse

            return JsonResponse({"detail": _("需要完成双重验证")}, status=403,
                                json_dumps_params={"ensure_ascii": False})
        user = request.user
        assert isinstance(user, User)
        name = "accounts:2fa_verify" if enrolled(user) else "accounts:2fa_setup"
        next_url = request.get_full_path() if request.method == "GET" else ""
        return HttpResponseRedirect(reverse(name) + ("?" + urlencode({"next": next_url})
                                                     if next_url else ""))


def end_session(request: HttpRequest) -> None:
    logout(request)
