"""The accounts admin goes through the services, masks identifiers, and is the bureau's alone."""

from __future__ import annotations

import pytest
from django.test import Client

from tongban.accounts.models import Role, User
from tongban.audit.models import AuditRecord
from tongban.organizations.models import Department, Hall

from ..conftest import make_user


@pytest.mark.django_db
def test_list_masks_id_numbers_and_phones(client: Client, bureau_admin: User) -> None:
    make_user("zhang", Role.CITIZEN, id_number="620102199001011233", phone="13812345678")
    client.force_login(bureau_admin)
    page = client.get("/admin/accounts/user/").content.decode()
    assert "6201**********1233" in page and "138****5678" in page
    assert "620102199001011233" not in page and "13812345678" not in page


@pytest.mark.django_db
def test_adding_staff_goes_through_the_service(client: Client, bureau_admin: User, city_hall: Hall) -> None:
    client.force_login(bureau_admin)
    response = client.post("/admin/accounts/user/add/", {
        "username": "clerk1", "password1": "a-long-passphrase", "password2": "a-long-passphrase",
        "role": Role.CLERK, "real_name": "王芳", "hall": city_hall.pk, "phone": "13712345678",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    clerk = User.objects.get(username="clerk1")
    assert (clerk.role, clerk.hall, clerk.is_staff) == (Role.CLERK, city_hall, True)
    assert clerk.check_password("a-long-passphrase")
    record = AuditRecord.objects.get(action="user.created")
    assert record.actor == bureau_admin and record.object_id == str(clerk.pk)


@pytest.mark.django_db
def test_form_shows_each_service_problem_on_its_field(client: Client, bureau_admin: User) -> None:
    client.force_login(bureau_admin)
    response = client.post("/admin/accounts/user/add/", {
        "username": "officer1", "password1": "a-long-passphrase", "password2": "a-long-passphrase",
        "role": Role.OFFICER, "real_name": "赵强", "id_number": "620102199001011234",
    })
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["department"] == ["“部门经办人”须归属一个部门"]
    assert errors["id_number"] == ["公民身份号码末位校验码与前17位不符，请核对号码"]
    assert not User.objects.filter(username="officer1").exists()


@pytest.mark.django_db
def test_changing_a_role_in_the_admin_is_audited(client: Client, bureau_admin: User,
                                                 city_department: Department, city_hall: Hall) -> None:
    clerk = make_user("clerk1", Role.CLERK, real_name="王芳", hall=city_hall, is_staff=True)
    client.force_login(bureau_admin)
    response = client.post(f"/admin/accounts/user/{clerk.pk}/change/", {
        "username": "clerk1", "role": Role.HEAD, "real_name": "王芳", "is_active": "on",
        "department": city_department.pk,
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    clerk.refresh_from_db()
    assert (clerk.role, clerk.department, clerk.hall) == (Role.HEAD, city_department, None)
    assert AuditRecord.objects.get(action="user.permissions_changed").detail["role"] == {
        "from": "clerk", "to": "head"}


@pytest.mark.django_db
def test_other_staff_cannot_open_the_accounts_admin(client: Client, city_department: Department) -> None:
    supervisor = make_user("sup", Role.SUPERVISOR, is_staff=True)
    client.force_login(supervisor)
    assert client.get("/admin/accounts/user/").status_code == 403
    assert client.post("/admin/accounts/user/add/", {
        "username": "x", "password1": "a-long-passphrase", "password2": "a-long-passphrase",
        "role": Role.ADMIN, "real_name": "x"}).status_code == 403
    assert not User.objects.filter(username="x").exists()
    # The supervisor may read the audit log, but not change it.
    assert client.get("/admin/audit/auditrecord/").status_code == 200
