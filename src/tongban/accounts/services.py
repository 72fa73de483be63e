"""Accounts: creating and changing accounts (with their role and workplace) and API tokens.

Who may do what is decided in ``permissions.py``; these functions check it, validate the
identifiers (身份证号 with ``identifiers.id_number_problem``, 统一社会信用代码 with
``stdnum.cn.uscc``, mobile numbers), write, and audit in one transaction. The admin, pages, API
and ``load_demo`` all come through here.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError as StdnumError

from tongban.audit.services import audit_record
from tongban.core import prepared
from tongban.core.encrypted import matches
from tongban.core.errors import AccessDenied, Problem, RuleViolation
from tongban.organizations.models import Department, Hall

from . import permissions
from .identifiers import id_number_compact, id_number_problem
from .models import DEPARTMENT_ROLES, HALL_ROLES, PUBLIC_ROLES, STAFF_ROLES, ApiToken, Role, User

if TYPE_CHECKING:
    from .permissions import Actor


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_issue(*, request: HttpRequest | None, username: str, password: str,
                otp: str = "") -> tuple[str, ApiToken] | None:
    """Check the credentials and issue a bearer token; None when they are wrong.

    Goes through Django's authenticate(), so django-axes counts failures and locks out. An
    account with a second factor (``twofactor.needs_code``) must also give a valid ``otp`` code,
    else ``twofactor.SecondFactorNeeded`` (a wrong code counts as a failed login too; an empty
    one does not: it only asks for the code). The checks
    write their failures outside the token's transaction, so a refusal keeps them.
    """
    from . import twofactor

    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        return None
    second_factor = twofactor.needs_code(user)
    if second_factor and twofactor.check_code(request=request, user=user, token=otp) is None:
        raise twofactor.SecondFactorNeeded
    with transaction.atomic():
        token = secrets.token_urlsafe(32)
        record = ApiToken.objects.create(
            user=user, digest=_digest(token), second_factor=second_factor,
            expires_at=timezone.now() + timedelta(hours=settings.API_TOKEN_TTL_HOURS),
        )
        audit_record(actor=user, action="auth.token_issued", object_type="user", object_id=user.pk,
                     detail={"second_factor": second_factor})
    return token, record


# Every API request with a bearer token runs this read: compiled once (``core.prepared``), the
# token and its user in one statement. Nothing of it is kept between requests, so a token
# deleted or expired, or an account deactivated or given another role or workplace, counts
# from the next request on, in every process.
_TOKEN = prepared.Lookup(lambda digest: ApiToken.objects.select_related("user")
                         .filter(digest=digest), text=True)


def token_authenticate(token: str) -> Any:
    """The active user a bearer token belongs to, or None when unknown or expired.

    A token issued without a second factor is refused while the account's role requires one
    (``twofactor.required_for``: it became an administrator or supervisor, or the requirement
    was switched on, after the token was issued). Enrolling or resetting the second factor
    revokes the account's tokens (:func:`tokens_revoke`)."""
    from . import twofactor

    now = timezone.now()
    try:
        record = _TOKEN.get(_digest(token))
    except ApiToken.DoesNotExist:
        return None
    if record.expires_at <= now or not record.user.is_active:
        return None
    if not record.second_factor and twofactor.required_for(record.user):
        return None
    # Touch at most once a minute, so reads do not all turn into writes.
    if record.last_used_at is None or now - record.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    user: User = record.user
    return user


def tokens_revoke(*, actor: Actor, user: User, reason: str) -> int:
    """Delete every API token of ``user`` (audited when there were any; inside the caller's
    transaction). Returns how many."""
    revoked = ApiToken.objects.filter(user=user).delete()[0]
    if revoked:
        audit_record(actor=actor, action="auth.tokens_revoked", object_type="user",
                     object_id=user.pk, detail={"count": revoked, "reason": reason})
    return revoked


# --- accounts --------------------------------------------------------------------------------

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
# Changing these changes what the account may do: only the bureau changes them, and each change
# is audited with its old and new value.
PERMISSION_FIELDS = ("role", "department", "hall", "is_active")


def normalize_phone(value: str) -> str:
    """Drop spaces, hyphens and a +86 country prefix: ``+86 138-1234-5678`` → ``13812345678``."""
    digits = re.sub(r"[\s-]", "", value or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits


@dataclass
class UserFields:
    """What a form, the API or a loader supplies for one account (everything but the password)."""

    username: str
    role: str
    real_name: str = ""
    id_number: str = ""
    phone: str = ""
    uscc: str = ""
    legal_representative: str = ""
    legal_representative_id_number: str = ""
    email: str = ""
    department: Department | None = None
    hall: Hall | None = None
    is_active: bool = True

    def values(self) -> dict[str, Any]:
        return {
            "username": self.username.strip(), "role": self.role,
            "real_name": self.real_name.strip(),
            "id_number": id_number_compact(self.id_number),
            "phone": normalize_phone(self.phone),
            "uscc": stdnum_uscc.compact(self.uscc or "").upper(),
            "legal_representative": self.legal_representative.strip(),
            "legal_representative_id_number":
                id_number_compact(self.legal_representative_id_number),
            "email": self.email.strip(), "department": self.department, "hall": self.hall,
            "is_active": self.is_active,
        }


def user_check(fields: UserFields, *, user: User | None = None) -> list[Problem]:
    """Every rule an account must satisfy; ``user`` is the stored account when editing."""
    problems: list[Problem] = []
    v = fields.values()
    others = User.objects.exclude(pk=user.pk) if user is not None else User.objects.all()

    if not v["username"]:
        problems.append(Problem("username", _("用户名不能为空")))
    else:
        try:
            UnicodeUsernameValidator()(v["username"])
        except ValidationError:
            problems.append(Problem("username", _("用户名只能包含字母、数字和 @/./+/-/_")))
        else:
            if others.filter(username__iexact=v["username"]).exists():
                problems.append(Problem("username", _("用户名“%(name)s”已被使用") % {"name": v["username"]}))

    if v["role"] not in Role.values:
        problems.append(Problem("role", _("角色无效")))
        return problems
    role = Role(v["role"])
    if not v["real_name"]:
        label = _("单位名称") if role == Role.ENTERPRISE else _("姓名")
        problems.append(Problem("real_name", _("%(label)s不能为空") % {"label": label}))

    if v["id_number"]:
        message = id_number_problem(v["id_number"])
        if message is not None:
            problems.append(Problem("id_number", message))
        elif others.filter(matches("id_number", v["id_number"])).exists():
            problems.append(Problem("id_number", _("该公民身份号码已注册账户")))
    elif role == Role.CITIZEN:
        problems.append(Problem("id_number", _("自然人账户须填写公民身份号码")))

    if v["phone"] and not MOBILE_RE.match(v["phone"]):
        problems.append(Problem("phone", _("手机号码“%(value)s”无效（须为11位，以1开头）")
                                % {"value": fields.phone}))

    if role == Role.ENTERPRISE:
        if not v["uscc"]:
            problems.append(Problem("uscc", _("法人账户须填写统一社会信用代码")))
        if not v["legal_representative"]:
            problems.append(Problem("legal_representative", _("法人账户须填写法定代表人")))
    if v["legal_representative_id_number"]:
        message = id_number_problem(v["legal_representative_id_number"],
                                    label=_("法定代表人身份证号码"))
        if message is not None:
            problems.append(Problem("legal_representative_id_number", message))
    if v["uscc"]:
        try:
            stdnum_uscc.validate(v["uscc"])
        except StdnumError:
            problems.append(Problem("uscc", _("统一社会信用代码“%(value)s”无效（须为18位且校验码正确）")
                                    % {"value": v["uscc"]}))
        else:
            if others.filter(uscc=v["uscc"]).exists():
                problems.append(Problem("uscc", _("该统一社会信用代码已注册账户")))

    # Where each role works: officers, heads and data officers in a department; clerks and
    # proxy agents in a hall; citizens and enterprises nowhere.
    if role in DEPARTMENT_ROLES and v["department"] is None:
        problems.append(Problem("department", _("“%(role)s”须归属一个部门") % {"role": role.label}))
    if role in HALL_ROLES and v["hall"] is None:
        problems.append(Problem("hall", _("“%(role)s”须归属一个大厅或便民服务中心") % {"role": role.label}))
    if v["hall"] is not None and role not in HALL_ROLES:
        problems.append(Problem("hall", _("只有窗口工作人员和代办员归属大厅")))
    if v["department"] is not None and (role in HALL_ROLES or role in PUBLIC_ROLES):
        problems.append(Problem("department", _("“%(role)s”不归属部门") % {"role": role.label}))
    return problems


def _raise(problems: list[Problem]) -> None:
    if problems:
        raise RuleViolation(problems)


def _password_problems(password: str, user: User) -> list[Problem]:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return [Problem("password", message) for message in exc.messages]
    return []


@transaction.atomic
def user_create(*, actor: Actor | None, fields: UserFields, password: str) -> User:
    """Create an account. Staff accounts only by the bureau; public ones also by self-registration.

    ``actor`` is None when a citizen or enterprise registers themselves.
    """
    if not permissions.can_create_account(actor, fields.role):
        raise AccessDenied(_("只有政务服务管理局管理员可以创建工作人员账户"))
    problems = user_check(fields)
    values = fields.values()
    candidate = User(**values)
    problems += _password_problems(password, candidate)
    _raise(problems)
    candidate.is_staff = values["role"] in STAFF_ROLES  # may enter the admin; each page checks the role
    candidate.set_password(password)
    candidate.save()
    audit_record(actor=actor, action="user.created", object_type="user", object_id=candidate.pk, detail={
        "username": candidate.username, "role": candidate.role,
        "department": candidate.department_id, "hall": candidate.hall_id})
    return candidate


def _comparable(value: Any) -> Any:
    return value.pk if hasattr(value, "pk") else value


@transaction.atomic
def user_update(*, actor: Actor, user: User, fields: UserFields) -> User:
    """Change an account. Role, workplace and active status: the bureau only, audited with old/new."""
    values = fields.values()
    changed = [name for name, value in values.items()
               if _comparable(getattr(user, name)) != _comparable(value)]
    permission_changes = [name for name in changed if name in PERMISSION_FIELDS]
    if not permissions.can_update_account(actor, user, permission_changes=bool(permission_changes)):
        raise AccessDenied(_("您无权修改此账户"))
    if not changed:
        return user
    _raise(user_check(fields, user=user))
    before = {name: _comparable(getattr(user, name)) for name in permission_changes}
    for name in changed:
        setattr(user, name, values[name])
    update_fields = list(changed)
    if "role" in changed:
        user.is_staff = user.role in STAFF_ROLES
        update_fields.append("is_staff")
    user.save(update_fields=update_fields)
    if permission_changes:
        audit_record(actor=actor, action="user.permissions_changed", object_type="user",
                     object_id=user.pk, detail={
                         name: {"from": before[name], "to": _comparable(getattr(user, name))}
                         for name in permission_changes})
    other = sorted(set(changed) - set(permission_changes))
    if other:
        # Only field names: the audit log must not copy personal data.
        audit_record(actor=actor, action="user.updated", object_type="user", object_id=user.pk,
                     detail={"fields": other})
    return user


# --- self-registration and the provincial identity provider -----------------------------------

def _is_anonymous(actor: Actor | None) -> bool:
    return actor is None or not getattr(actor, "is_authenticated", False)


def registration_check(fields: UserFields) -> list[Problem]:
    """What self-registration asks beyond :func:`user_check`: a public role, a mobile number,
    and for an enterprise the legal representative's ID number (the account's own ``id_number``
    stays empty)."""
    problems: list[Problem] = []
    v = fields.values()
    if v["role"] not in PUBLIC_ROLES:
        problems.append(Problem("role", _("只能注册自然人或法人账户")))
    if not v["phone"]:
        problems.append(Problem("phone", _("手机号码不能为空")))
    if v["role"] == Role.ENTERPRISE:
        if not v["legal_representative_id_number"]:
            problems.append(Problem("legal_representative_id_number",
                                    _("法人账户须填写法定代表人身份证号码")))
        if v["id_number"]:
            problems.append(Problem("id_number", _("法人账户不填写公民身份号码，请填写法定代表人身份证号码")))
    return problems


@transaction.atomic
def account_register(*, actor: Actor | None, fields: UserFields, password: str) -> User:
    """A citizen or enterprise opens an account for themselves (``actor`` is the anonymous
    visitor). Every problem is reported at once; nothing is saved unless all rules pass.
    The new account is audited as ``user.created`` with ``registered: true``."""
    if not _is_anonymous(actor):
        raise AccessDenied(_("您已登录，请先退出当前账户再注册新账户"))
    problems = registration_check(fields)
    if any(p.field == "role" for p in problems):
        _raise(problems)  # a staff role: nothing else is worth reporting
    problems += user_check(fields)
    candidate = User(**fields.values())
    problems += _password_problems(password, candidate)
    _raise(problems)
    user = user_create(actor=None, fields=fields, password=password)
    audit_record(actor=user, action="user.registered", object_type="user", object_id=user.pk,
                 detail={"role": user.role})
    return user


@dataclass
class Identity:
    """A person as the provincial identity provider (省统一身份认证) vouches for them."""

    name: str
    id_number: str
    phone: str = ""


def _identity_username(id_number: str) -> str:
    base = "gov" + hashlib.sha256(id_number.encode("utf-8")).hexdigest()[:10]
    name, n = base, 1
    while User.objects.filter(username__iexact=name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


@transaction.atomic
def account_from_identity(*, identity: Identity) -> User:
    """The citizen account of a person the identity provider verified: matched by 公民身份号码,
    or created (without a password: such a person logs in through the provider). Name and a
    valid mobile number from the provider update the stored ones. Staff and enterprise accounts
    are never entered this way."""
    id_number = id_number_compact(identity.id_number)
    if id_number_problem(id_number) is not None:
        raise RuleViolation([Problem("id_number", _("统一身份认证未提供有效的公民身份号码"))])
    name = (identity.name or "").strip()
    phone = normalize_phone(identity.phone)
    phone = phone if MOBILE_RE.match(phone) else ""
    user = User.objects.filter(matches("id_number", id_number)).first()
    if user is not None:
        if user.role != Role.CITIZEN or not user.is_active:
            raise AccessDenied(_("该身份对应的账户不能通过统一身份认证登录，请使用账号密码登录"))
        fields = UserFields(
            username=user.username, role=user.role, real_name=name or user.real_name,
            id_number=user.id_number, phone=phone or user.phone, uscc=user.uscc,
            legal_representative=user.legal_representative,
            legal_representative_id_number=user.legal_representative_id_number, email=user.email)
        return user_update(actor=user, user=user, fields=fields)
    fields = UserFields(username=_identity_username(id_number), role=Role.CITIZEN,
                        real_name=name, id_number=id_number, phone=phone)
    _raise(user_check(fields))
    user = User(**fields.values())
    user.set_unusable_password()
    user.save()
    audit_record(actor=None, action="user.created", object_type="user", object_id=user.pk,
                 detail={"username": user.username, "role": user.role, "source": "oidc"})
    return user
