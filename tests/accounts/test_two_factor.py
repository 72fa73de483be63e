"""Staff two-factor authentication (TOTP with recovery codes): enrolment, the code after the
password, required for administrators and supervisors, optional for other staff, wrong codes
counting toward the lockout, recovery codes used once, and every change audited."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.fixtures import Settings

from tongban.accounts import twofactor
from tongban.accounts.models import Role, User
from tongban.audit.models import AuditRecord
from tongban.core.errors import RuleViolation

from ..conftest import make_user

pytestmark = pytest.mark.django_db
PASSWORD = "secret-pass-123"


@pytest.fixture(autouse=True)
def required(settings: Settings) -> None:
    settings.TWO_FACTOR_REQUIRED = True  # as in production


def code_of(device: TOTPDevice, *, step_offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + step_offset * device.step
    return f"{totp.token():0{device.digits}d}"


def login(client: Client, username: str) -> None:
    response = client.post("/accounts/staff/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]


def enrol(client: Client, user: User) -> list[str]:
    page = client.get("/accounts/2fa/setup/")
    assert page.status_code == 200
    assert "data:image/svg+xml" in page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    done = client.post("/accounts/2fa/setup/", {"token": code_of(device)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>(\w+)</code></li>", done.content.decode())
    assert len(codes) == 10
    return codes


def test_an_administrator_must_enrol_before_any_staff_page(client: Client) -> None:
    admin = make_user("bureau", Role.ADMIN)
    login(client, "bureau")
    blocked = client.get("/accounts/staff/")
    assert blocked.status_code == 302
    assert blocked["Location"].startswith("/accounts/2fa/setup/?next=")
    assert client.get("/api/v1/auth/me").status_code == 403
    codes = enrol(client, admin)
    assert client.get("/accounts/staff/").status_code == 200  # verified in this session
    assert AuditRecord.objects.filter(action="user.2fa_enrolled", object_id=str(admin.pk)).exists()
    assert len(set(codes)) == 10


def after_throttle(time_machine: Any) -> None:
    """django-otp makes a device wait after a wrong code (1 s, 2 s, 4 s…): a minute later."""
    time_machine.move_to(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1), tick=True)


def test_after_enrolment_the_password_alone_is_not_enough(client: Client, time_machine: Any) -> None:
    supervisor = make_user("watcher", Role.SUPERVISOR)
    login(client, "watcher")
    enrol(client, supervisor)
    client.logout()

    login(client, "watcher")
    blocked = client.get("/accounts/me/")
    assert blocked["Location"].startswith("/accounts/2fa/verify/?next=")
    device = TOTPDevice.objects.get(user=supervisor, confirmed=True)
    wrong = client.post("/accounts/2fa/verify/", {"token": "000000" if code_of(device) != "000000"
                                                   else "111111"})
    assert wrong.status_code == 400
    assert "验证码不正确或已过期" in wrong.content.decode()
    assert client.get("/accounts/me/").status_code == 302  # still blocked
    after_throttle(time_machine)
    ok = client.post("/accounts/2fa/verify/?next=/accounts/me/", {"token": code_of(device),
                                                                 "next": "/accounts/me/"})
    assert ok.status_code == 302 and ok["Location"] == "/accounts/me/"
    assert client.get("/accounts/me/").status_code == 200


def test_a_recovery_code_works_once(client: Client, time_machine: Any) -> None:
    admin = make_user("bureau", Role.ADMIN)
    login(client, "bureau")
    codes = enrol(client, admin)
    client.logout()

    login(client, "bureau")
    assert client.post("/accounts/2fa/verify/", {"token": codes[0]}).status_code == 302
    assert client.get("/accounts/staff/").status_code == 200
    assert AuditRecord.objects.filter(action="user.2fa_recovery_code_used").count() == 1
    client.logout()

    login(client, "bureau")
    assert client.post("/accounts/2fa/verify/", {"token": codes[0]}).status_code == 400
    after_throttle(time_machine)
    assert client.post("/accounts/2fa/verify/", {"token": codes[1]}).status_code == 302
    me = client.get("/accounts/me/").content.decode()
    assert "剩余 8 个恢复码" in me


def test_wrong_codes_count_toward_the_lockout(client: Client, settings: Settings) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    admin = make_user("bureau", Role.ADMIN)
    login(client, "bureau")
    enrol(client, admin)
    client.logout()
    login(client, "bureau")
    answers = [client.post("/accounts/2fa/verify/", {"token": "12"}).status_code for _ in range(3)]
    assert answers[:2] == [400, 400] and answers[2] == 429
    # The session ended and the pair is locked: the password does not log in either.
    assert "_auth_user_id" not in client.session
    locked = client.post("/accounts/staff/login/", {"username": "bureau", "password": PASSWORD})
    assert locked.status_code == 429


def test_other_staff_may_opt_in_and_out(client: Client, city_department: object) -> None:
    officer = make_user("officer", Role.OFFICER, department=city_department)
    login(client, "officer")
    assert client.get("/accounts/me/").status_code == 200  # not required
    assert "启用双重验证" in client.get("/accounts/me/").content.decode()
    enrol(client, officer)
    client.logout()
    login(client, "officer")
    assert client.get("/accounts/me/")["Location"].startswith("/accounts/2fa/verify/")
    device = TOTPDevice.objects.get(user=officer, confirmed=True)
    # The next step's code: the one given at enrolment may not be used twice.
    verified = client.post("/accounts/2fa/verify/", {"token": code_of(device, step_offset=1)})
    assert verified.status_code == 302
    client.post("/accounts/2fa/disable/")
    assert not TOTPDevice.objects.filter(user=officer).exists()
    assert AuditRecord.objects.filter(action="user.2fa_disabled", object_id=str(officer.pk)).exists()
    client.logout()
    login(client, "officer")
    assert client.get("/accounts/me/").status_code == 200


def test_an_administrator_cannot_switch_it_off(client: Client) -> None:
    admin = make_user("bureau", Role.ADMIN)
    login(client, "bureau")
    enrol(client, admin)
    client.post("/accounts/2fa/disable/")
    assert TOTPDevice.objects.filter(user=admin, confirmed=True).exists()
    assert not AuditRecord.objects.filter(action="user.2fa_disabled").exists()


def test_a_wrong_enrolment_code_enrols_nothing(client: Client) -> None:
    admin = make_user("bureau", Role.ADMIN)
    login(client, "bureau")
    client.get("/accounts/2fa/setup/")
    device = TOTPDevice.objects.get(user=admin)
    wrong = code_of(device, step_offset=20)
    response = client.post("/accounts/2fa/setup/", {"token": wrong})
    assert response.status_code == 400
    assert "验证码不正确或已过期" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=admin, confirmed=True).exists()
    assert client.get("/accounts/staff/").status_code == 302


def test_citizens_have_no_second_factor(client: Client, citizen: User) -> None:
    client.post("/accounts/login/", {"username": "citizen", "password": PASSWORD})
    assert client.get("/accounts/me/").status_code == 200
    assert client.get("/accounts/2fa/setup/").status_code == 403


def test_not_required_when_switched_off(client: Client, settings: Settings) -> None:
    settings.TWO_FACTOR_REQUIRED = False
    make_user("bureau", Role.ADMIN)
    login(client, "bureau")
    assert client.get("/accounts/staff/").status_code == 200


def test_the_operator_resets_a_lost_second_factor(client: Client) -> None:
    from io import StringIO

    from django.core.management import call_command

    admin = make_user("bureau", Role.ADMIN)
    login(client, "bureau")
    enrol(client, admin)
    client.logout()
    call_command("reset_2fa", "bureau", stdout=StringIO())
    assert not TOTPDevice.objects.filter(user=admin).exists()
    assert AuditRecord.objects.filter(action="user.2fa_reset", object_id=str(admin.pk)).exists()
    login(client, "bureau")
    assert client.get("/accounts/staff/")["Location"].startswith("/accounts/2fa/setup/")


def test_the_api_token_needs_the_code_too(client: Client, time_machine: Any) -> None:
    """An administrator's password alone does not buy a bearer token: the second factor would
    be bypassed through the API."""
    admin = make_user("bureau", Role.ADMIN)
    url = "/api/v1/auth/token"
    refused = client.post(url, {"username": "bureau", "password": PASSWORD},
                          content_type="application/json")
    assert refused.status_code == 401
    assert "双重验证" in refused.json()["detail"]
    login(client, "bureau")
    enrol(client, admin)
    client.logout()
    after_throttle(time_machine)  # and past the code used for the enrolment
    device = TOTPDevice.objects.get(user=admin, confirmed=True)
    wrong = client.post(url, {"username": "bureau", "password": PASSWORD, "otp": "12"},
                        content_type="application/json")
    assert wrong.status_code == 401
    after_throttle(time_machine)
    issued = client.post(url, {"username": "bureau", "password": PASSWORD, "otp": code_of(device)},
                         content_type="application/json")
    assert issued.status_code == 200, issued.content
    assert client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {issued.json()['token']}").json()[
        "username"] == "bureau"


def test_the_password_alone_cannot_switch_the_second_factor_off(
        client: Client, city_department: object) -> None:
    officer = make_user("officer", Role.OFFICER, department=city_department)
    login(client, "officer")
    enrol(client, officer)
    client.logout()
    login(client, "officer")  # the password, not yet the code
    client.post("/accounts/2fa/disable/")
    assert TOTPDevice.objects.filter(user=officer, confirmed=True).exists()
    assert not AuditRecord.objects.filter(action="user.2fa_disabled").exists()
    with pytest.raises(RuleViolation, match="验证码"):
        twofactor.totp_disable(actor=officer, second_factor_passed=False)


def test_a_superuser_must_use_a_second_factor_whatever_its_role(client: Client) -> None:
    root = User.objects.create_superuser("root", password=PASSWORD)
    assert twofactor.required_for(root)
    login(client, "root")
    assert client.get("/admin/")["Location"].startswith("/accounts/2fa/setup/")


def test_a_recovery_code_given_twice_at_once_is_consumed_once(client: Client) -> None:
    """Two requests with the same recovery code at the same moment: the second reads the code
    while the first is deleting it (run inside the first's delete). Exactly one succeeds."""
    from django.db.models.signals import pre_delete
    from django_otp.plugins.otp_static.models import StaticToken

    admin = make_user("bureau", Role.ADMIN)
    login(client, "bureau")
    codes = enrol(client, admin)
    results: list[bool] = []
    raced: list[bool] = []

    def the_other_request(sender: Any, **kwargs: Any) -> None:
        if not raced:  # only once: the first delete lets the second request run to its end
            raced.append(True)
            results.append(twofactor.check_code(request=None, user=admin, token=codes[0])
                           is not None)

    pre_delete.connect(the_other_request, sender=StaticToken)
    try:
        results.append(twofactor.check_code(request=None, user=admin, token=codes[0]) is not None)
    finally:
        pre_delete.disconnect(the_other_request, sender=StaticToken)
    assert sorted(results) == [False, True]
    assert twofactor.recovery_codes_left(admin) == 9
    assert AuditRecord.objects.filter(action="user.2fa_recovery_code_used").count() == 1


def test_an_empty_code_asks_for_it_and_is_not_a_failed_login(client: Client,
                                                              settings: Settings) -> None:
    """The password right and no code (the API's ``otp`` left empty, or the code page sent
    blank): the answer asks for the code; the lockout counts nothing."""
    from axes.models import AccessAttempt

    settings.AXES_FAILURE_LIMIT = 2
    admin = make_user("bureau", Role.ADMIN)
    login(client, "bureau")
    enrol(client, admin)
    client.logout()
    url = "/api/v1/auth/token"
    for otp in ("", "  ", ""):
        answer = client.post(url, {"username": "bureau", "password": PASSWORD, "otp": otp},
                             content_type="application/json")
        assert answer.status_code == 401 and "otp" in answer.json()["detail"]
    login(client, "bureau")
    for _i in range(3):
        blank = client.post("/accounts/2fa/verify/", {"token": " "})
        assert blank.status_code == 400 and "请输入验证码" in blank.content.decode()
    assert not AccessAttempt.objects.filter(failures_since_start__gt=0).exists()
    assert "_auth_user_id" in client.session  # not locked out, still waiting for the code


def bearer(client: Client, token: str) -> int:
    return client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def issue(client: Client, username: str, otp: str = "") -> str:
    answer = client.post("/api/v1/auth/token", {"username": username, "password": PASSWORD,
                                                "otp": otp}, content_type="application/json")
    assert answer.status_code == 200, answer.content
    token: str = answer.json()["token"]
    return token


def test_a_token_issued_without_a_second_factor_ends_when_the_role_requires_one(
        client: Client, settings: Settings, city_department: object) -> None:
    """Issued to an officer with the password alone, or while the requirement was off: once the
    account is an administrator (or the requirement is on), the token is refused."""
    officer = make_user("officer", Role.OFFICER, department=city_department)
    token = issue(client, "officer")
    assert bearer(client, token) == 200
    User.objects.filter(pk=officer.pk).update(role=Role.ADMIN, department=None)
    assert bearer(client, token) == 401

    settings.TWO_FACTOR_REQUIRED = False
    make_user("bureau", Role.ADMIN)
    early = issue(client, "bureau")
    assert bearer(client, early) == 200
    settings.TWO_FACTOR_REQUIRED = True
    assert bearer(client, early) == 401


def test_enrolment_and_reset_revoke_the_tokens_issued_before(
        client: Client, city_department: object, time_machine: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    from tongban.accounts.models import ApiToken

    officer = make_user("officer", Role.OFFICER, department=city_department)
    before = issue(client, "officer")  # no second factor yet: the password alone
    login(client, "officer")
    enrol(client, officer)
    assert bearer(Client(), before) == 401
    assert not ApiToken.objects.filter(user=officer).exists()
    assert AuditRecord.objects.filter(action="auth.tokens_revoked",
                                      object_id=str(officer.pk)).exists()
    after_throttle(time_machine)
    device = TOTPDevice.objects.get(user=officer, confirmed=True)
    with_code = issue(Client(), "officer", code_of(device))
    assert ApiToken.objects.get(user=officer).second_factor
    assert bearer(Client(), with_code) == 200
    call_command("reset_2fa", "officer", stdout=StringIO())
    assert bearer(Client(), with_code) == 401


def test_the_admin_never_shows_a_second_factor_secret_and_resets_through_the_service(
        client: Client, city_department: object, time_machine: Any) -> None:
    """The bureau administrator sees who has a second factor, never its secret key or QR code
    (with them anyone could produce the officer's codes), cannot add or edit a device, and a
    reset from the admin is the operator's reset: devices gone, API tokens revoked, audited."""
    officer = make_user("officer", Role.OFFICER, department=city_department)
    login(client, "officer")
    enrol(client, officer)
    device = TOTPDevice.objects.get(user=officer, confirmed=True)
    after_throttle(time_machine)
    token = issue(Client(), "officer", code_of(device))
    assert bearer(Client(), token) == 200

    admin = make_user("bureau", Role.ADMIN, is_staff=True)
    staff = Client()
    login(staff, "bureau")
    enrol(staff, admin)  # the administrator's own session passed the second factor
    listing = staff.get("/admin/otp_totp/totpdevice/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "officer" in page and device.key not in page and "qrcode" not in page
    change = staff.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    assert device.key not in change and 'name="key"' not in change
    assert staff.get("/admin/otp_totp/totpdevice/add/").status_code == 403
    assert staff.get("/admin/otp_static/staticdevice/add/").status_code == 403

    staff.post("/admin/otp_totp/totpdevice/", {
        "action": "reset_second_factor", "_selected_action": [device.pk], "index": 0})
    assert not TOTPDevice.objects.filter(user=officer).exists()
    assert bearer(Client(), token) == 401
    reset = AuditRecord.objects.get(action="user.2fa_reset", object_id=str(officer.pk))
    assert reset.actor_id == admin.pk
