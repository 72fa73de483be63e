"""Every write made through the admin is audited, whatever the path (``core.admin``)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern

from tongban.accounts.models import User
from tongban.audit.admin_site import AuditedAdmin
from tongban.audit.models import AuditRecord
from tongban.catalog.models import Synonym


def test_every_registered_admin_and_every_url_of_it_is_audited() -> None:
    registry = admin.site._registry
    assert len(registry) >= 30  # every app's admin, and the third-party ones (axes, tasks, auth)
    uncovered = []
    for model, model_admin in registry.items():
        if not isinstance(model_admin, AuditedAdmin):
            uncovered.append(model._meta.label)
            continue
        for pattern in model_admin.get_urls():
            assert isinstance(pattern, URLPattern)
            if not getattr(pattern.callback, "audited", False):
                uncovered.append(f"{model._meta.label} {pattern.name}")
    assert uncovered == []


@pytest.mark.django_db
def test_a_model_admin_without_audit_of_its_own_is_audited_by_the_site(
    client: Client, bureau_admin: User,
) -> None:
    client.force_login(bureau_admin)
    bureau_admin.is_superuser = True  # Django's own admin of groups: model permissions needed
    bureau_admin.save(update_fields=["is_superuser"])

    assert client.post("/admin/auth/group/add/", {"name": "窗口组"}).status_code == 302
    group = Group.objects.get(name="窗口组")
    added = AuditRecord.objects.get(action="admin.added")
    assert (added.object_type, added.object_id, added.actor_id) == (
        "group", str(group.pk), bureau_admin.pk)

    second = Group.objects.create(name="导办组")
    response = client.post("/admin/auth/group/", {
        "action": "delete_selected", "post": "yes",
        "_selected_action": [str(group.pk), str(second.pk)]})
    assert response.status_code == 302
    assert not Group.objects.exists()
    assert sorted(AuditRecord.objects.filter(action="admin.deleted")
                  .values_list("object_type", "object_id", "actor_id")) == sorted([
        ("group", str(group.pk), bureau_admin.pk), ("group", str(second.pk), bureau_admin.pk)])


@pytest.mark.django_db
def test_a_refused_form_writes_nothing_and_audits_nothing(client: Client,
                                                          bureau_admin: User) -> None:
    client.force_login(bureau_admin)
    Synonym.objects.create(term="一网通办", synonyms="网上办")
    response = client.post("/admin/catalog/synonym/add/", {"term": "一网通办", "synonyms": "网办"})
    assert response.status_code == 200  # the term exists: the form shows the error
    assert list(Synonym.objects.filter(term="一网通办").values_list("synonyms", flat=True)) == ["网上办"]
    assert not AuditRecord.objects.exists()


@pytest.mark.django_db
def test_changing_ones_password_in_the_admin_is_audited(client: Client,
                                                         bureau_admin: User) -> None:
    client.force_login(bureau_admin)
    response = client.post("/admin/password_change/", {
        "old_password": "secret-pass-123", "new_password1": "An0ther-long-pass",
        "new_password2": "An0ther-long-pass"})
    assert response.status_code == 302
    bureau_admin.refresh_from_db()
    assert bureau_admin.check_password("An0ther-long-pass")
    record = AuditRecord.objects.get(action="admin.password_changed")
    assert (record.object_type, record.object_id, record.actor_id) == (
        "user", str(bureau_admin.pk), bureau_admin.pk)


@pytest.mark.django_db
def test_opening_a_record_holding_personal_data_is_an_audited_read(
    client: Client, bureau_admin: User, citizen: User,
) -> None:
    client.force_login(bureau_admin)
    assert client.get("/admin/accounts/user/").status_code == 200  # the list shows them masked
    assert not AuditRecord.objects.filter(action="admin.personal_data_viewed").exists()
    response = client.get(f"/admin/accounts/user/{citizen.pk}/change/")
    assert response.status_code == 200
    assert citizen.id_number in response.content.decode()
    read = AuditRecord.objects.get(action="admin.personal_data_viewed")
    assert (read.object_type, read.object_id, read.actor_id) == ("user", str(citizen.pk),
                                                                 bureau_admin.pk)
    # A record without personal data is read without a record.
    client.get(f"/admin/accounts/user/{bureau_admin.pk}/history/")
    synonym = Synonym.objects.first()
    if synonym is not None:
        client.get(f"/admin/catalog/synonym/{synonym.pk}/change/")
    assert AuditRecord.objects.filter(action="admin.personal_data_viewed").count() == 1
