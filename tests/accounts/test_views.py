"""Account pages: the own-account page (login) and the bureau's staff list (admin role)."""

from __future__ import annotations

import pytest
from django.test import Client

from tongban.accounts.models import Role, User
from tongban.organizations.models import Department

from ..conftest import make_user


@pytest.mark.django_db
def test_anonymous_is_sent_to_login_from_the_staff_list(client: Client) -> None:
    response = client.get("/accounts/staff/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/staff/"


@pytest.mark.django_db
def test_other_roles_get_403_on_the_staff_list(client: Client, city_department: Department) -> None:
    for role, extra in ((Role.CITIZEN, {}), (Role.HEAD, {"department": city_department}),
                        (Role.SUPERVISOR, {})):
        user = make_user(f"u-{role}", role, **extra)
        client.force_login(user)
        assert client.get("/accounts/staff/").status_code == 403, role


@pytest.mark.django_db
def test_bureau_admin_sees_staff_with_masked_phones(client: Client, admin_user: User,
                                                    city_department: Department, citizen: User) -> None:
    make_user("officer", Role.OFFICER, real_name="赵强", department=city_department, phone="13812345678")
    client.force_login(admin_user)
    response = client.get("/accounts/staff/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "赵强" in page and "兰州市市场监督管理局" in page
    assert "138****5678" in page and "13812345678" not in page
    # Citizens are not staff.
    assert "620102" not in page and ">citizen<" not in page


@pytest.mark.django_db
def test_own_account_page_needs_login_and_masks_identifiers(client: Client, citizen: User) -> None:
    assert client.get("/accounts/me/").status_code == 302
    client.force_login(citizen)
    page = client.get("/accounts/me/").content.decode()
    assert "6201**********1233" in page
    assert "620102199001011233" not in page
