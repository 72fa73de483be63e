from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError

from tongban.core.schemas import ErrorOut

from . import services, twofactor

router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str
    password: str
    # The authenticator's code (or a recovery code) of an account with two-factor login.
    otp: str = ""


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"
    expires_at: str


class MeOut(Schema):
    username: str
    real_name: str
    role: str
    department: str | None = None


@router.post("/token", response={200: TokenOut, 401: ErrorOut, 429: ErrorOut}, auth=None,
             summary="Issue a bearer token")
def issue_token(request: HttpRequest, payload: TokenIn) -> TokenOut:
    """Exchange username and password (and, for an account with two-factor login, the code in
    ``otp``) for a bearer token (send as ``Authorization: Bearer …``)."""
    try:
        issued = services.token_issue(request=request, username=payload.username,
                                      password=payload.password, otp=payload.otp)
    except twofactor.SecondFactorNeeded:
        raise HttpError(401, _("该账户须使用双重验证：请在 otp 字段提供身份验证器的验证码"
                               "（尚未绑定的请先在网页登录绑定）")) from None
    if issued is None:
        raise HttpError(401, _("用户名或密码错误"))
    token, record = issued
    return TokenOut(token=token, expires_at=record.expires_at.astimezone().isoformat())


@router.get("/me", response=MeOut, summary="The authenticated account")
def me(request: HttpRequest) -> MeOut:
    user = request.user
    return MeOut(username=user.username, real_name=user.real_name, role=user.role,  # type: ignore[union-attr]
                 department=user.department.name if user.department else None)  # type: ignore[union-attr]
