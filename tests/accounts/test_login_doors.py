"""The two login doors: the public page for citizens and companies, the staff page for staff;
each refuses the other kind of account and points to the right page. The lockout still counts."""

from __future__ import annotations

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from tongban.accounts.models import Role, User
from tongban.organizations.models import Department

from ..conftest import make_user

pytestmark = pytest.mark.django_db
PASSWORD = "secret-pass-123"


def test_both_pages_have_the_same_labels(client: Client) -> None:
    doors = (("/accounts/login/", "<h1>登录</h1>"), ("/accounts/staff/login/", "<h1>工作人员登录</h1>"))
    for url, title in doors:
        page = client.get(url).content.decode()
        assert title in page
        assert '>用户名</label>' in page and '>密码</label>' in page and '>登录</button>' in page


def test_a_citizen_logs_in_at_the_public_door(client: Client, citizen: User) -> None:
    response = client.post("/accounts/login/", {"username": "citizen", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(citizen.pk)


def test_staff_are_refused_at_the_public_door_and_pointed_to_theirs(
        client: Client, city_department: Department) -> None:
    make_user("officer", Role.OFFICER, department=city_department)
    response = client.post("/accounts/login/?next=/workbench/",
                           {"username": "officer", "password": PASSWORD, "next": "/workbench/"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "这是工作人员账户，请从“工作人员登录”页面登录。" in page
    assert 'href="/accounts/staff/login/?next=/workbench/"' in page
    assert "_auth_user_id" not in client.session
    response = client.post("/accounts/staff/login/", {"username": "officer", "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_citizens_are_refused_at_the_staff_door(client: Client, citizen: User) -> None:
    response = client.post("/accounts/staff/login/", {"username": "citizen", "password": PASSWORD})
    page = response.content.decode()
    assert "这是自然人或法人账户，请从公众登录页面登录。" in page
    assert 'href="/accounts/login/"' in page
    assert "_auth_user_id" not in client.session


def test_a_superuser_without_a_staff_role_is_staff(client: Client) -> None:
    User.objects.create_superuser("root", password=PASSWORD)
    client.post("/accounts/login/", {"username": "root", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    client.post("/accounts/staff/login/", {"username": "root", "password": PASSWORD})
    assert "_auth_user_id" in client.session


def test_wrong_passwords_lock_out_at_the_staff_door_too(client: Client, city_department: Department,
                                                        settings: Settings) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    make_user("officer", Role.OFFICER, department=city_department)
    for _ in range(2):
        client.post("/accounts/staff/login/", {"username": "officer", "password": "wrong-password"})
    response = client.post("/accounts/staff/login/", {"username": "officer", "password": PASSWORD})
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_public_page_offers_registration_and_the_staff_door(client: Client) -> None:
    page = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/register/"' in page and 'href="/accounts/register/company/"' in page
    assert 'href="/accounts/staff/login/"' in page


def test_on_the_way_to_a_staff_page_the_public_door_forwards_to_the_staff_door(client: Client) -> None:
    response = client.get("/accounts/staff/")  # the bureau's staff list: admin only
    assert response["Location"] == "/accounts/login/?next=/accounts/staff/"
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"] == "/accounts/staff/login/?next=%2Faccounts%2Fstaff%2F"
    # A page citizens may open too stays at the public door.
    assert client.get("/accounts/login/?next=/accounts/me/").status_code == 200


def test_staff_land_on_their_daily_work(client: Client, city_department: Department) -> None:
    make_user("officer", Role.OFFICER, department=city_department)
    response = client.post("/accounts/staff/login/", {"username": "officer", "password": PASSWORD})
    assert response["Location"] == "/workbench/"
