"""Application form data (``Case.form_data``: contact phones, ID numbers of the people named in
the form) is SM4 ciphertext in the database, read back whole by the pages and the API; the
migration encrypts what was stored in plain, and ``tongban rotate_keys`` moves it to a new key."""

from __future__ import annotations

import importlib
import io
import json
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.db.models import Q
from django.test import Client

from tests.cases.conftest import PROXY, TIME_LIMITED, api_create, applicant_body, form_for
from tongban.accounts.models import User
from tongban.cases import drafts
from tongban.cases.models import Case
from tongban.core import crypto

pytestmark = pytest.mark.django_db

APPLY = f"/apply/{TIME_LIMITED}/"
# What the demo forms hold that must not be readable in the database.
PLAIN = ("620102199003077770", "0931-8123456", "13893100001", "8123456", "3077770")


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def keyfile(settings: Any, tmp_path: Path) -> Path:
    """A key file of the test's own (a copy of the current keys), so rotation touches nothing else."""
    path = tmp_path / "keys" / "personal-data.keys"
    path.parent.mkdir()
    shutil.copy(crypto.key_path(), path)
    settings.PERSONAL_DATA_KEY_FILE = str(path)
    return path


def stored_form_data() -> list[str]:
    """``cases_case.form_data`` as the database holds it (JSON text), by case id."""
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {q('form_data')} FROM {q('cases_case')} ORDER BY {q('id')}")
        return [row[0] if isinstance(row[0], str) else json.dumps(row[0])
                for row in cursor.fetchall()]


def set_stored_form_data(case: Case, document: Any) -> None:
    """Write ``form_data`` as the schema before encryption stored it: the plain JSON document."""
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {q('cases_case')} SET {q('form_data')} = %s WHERE {q('id')} = %s",
                       [json.dumps(document, ensure_ascii=False), case.pk])


def assert_encrypted(stored: str, version: int | None = None) -> str:
    value = json.loads(stored)
    assert isinstance(value, str) and value.startswith("sm4:"), stored
    assert not any(p in stored for p in PLAIN), stored
    if version is not None:
        assert crypto.text_key_version(value) == version
    return value


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_application_stores_its_form_data_encrypted_and_reads_it_back(
        people: dict[str, User], demo_forms: None) -> None:
    citizen = people["citizen"]
    client = login(citizen)
    posted = {f"f_{k}": v for k, v in form_for(TIME_LIMITED).items()}
    assert client.post(APPLY, {**posted, "idempotency_key": "k1"}).status_code == 302
    case = Case.objects.get()
    (stored,) = stored_form_data()
    assert_encrypted(stored)
    # The model, the form page and the draft edit see the plain values.
    assert (case.form_data["legal_representative_id"], case.form_data["contact_phone"],
            case.form_data["floor_area"]) == ("620102199003077770", "0931-8123456", 85)
    page = client.get(f"/my/cases/{case.pk}/form/").content.decode()
    assert 'name="f_legal_representative_id" value="620102199003077770"' in page
    assert 'name="f_contact_phone" value="0931-8123456"' in page
    drafts.case_draft_update(actor=citizen, case=case,
                             form_data={**form_for(TIME_LIMITED), "contact_phone": "0931-8654321"})
    (stored,) = stored_form_data()
    assert_encrypted(stored)
    assert "8654321" not in stored
    assert Case.objects.get().form_data["contact_phone"] == "0931-8654321"


def test_the_api_stores_form_data_encrypted_and_returns_it_whole(
        people: dict[str, User], demo_forms: None, api: Any) -> None:
    citizen = people["citizen"]
    created = api_create(api("citizen"), PROXY, applicant=applicant_body(citizen),
                         form_data=form_for(PROXY))
    (stored,) = stored_form_data()
    assert_encrypted(stored)
    data = api("citizen").get(f"/cases/{created['id']}").json()
    assert (data["form_data"]["insured_id"], data["form_data"]["contact_phone"]) == (
        "620102199003077770", "13893100001")
    assert {k: v for k, v in data["form_data"].items() if k != "_form"} == form_for(PROXY)


def test_form_data_takes_no_look_up_inside(people: dict[str, User], demo_forms: None,
                                           api: Any) -> None:
    api_create(api("citizen"), PROXY, applicant=applicant_body(people["citizen"]),
               form_data=form_for(PROXY))
    # The look-ups go through Q: as keyword arguments of filter(), the django-stubs plugin asks the
    # field for them while type checking, and the field's FieldError crashes mypy.
    with pytest.raises(FieldError, match="encrypted"):
        Case.objects.filter(Q(form_data__insured_id="620102199003077770")).exists()
    with pytest.raises(FieldError, match="encrypted"):
        Case.objects.filter(Q(form_data__has_key="insured_id")).exists()
    assert Case.objects.filter(form_data__isnull=False).count() == 1


def test_the_migration_encrypts_plain_form_data_and_undoing_it_decrypts(
        people: dict[str, User], demo_forms: None, api: Any) -> None:
    created = api_create(api("citizen"), PROXY, applicant=applicant_body(people["citizen"]),
                         form_data=form_for(PROXY))
    case = Case.objects.get(pk=created["id"])
    document = case.form_data
    set_stored_form_data(case, document)  # as stored before encryption
    (stored,) = stored_form_data()
    assert json.loads(stored) == document and "620102199003077770" in stored
    assert Case.objects.get().form_data == document  # read as it is until the migration runs

    module = importlib.import_module("tongban.cases.migrations.0006_encrypt_form_data")
    editor = SimpleNamespace(connection=connection)
    module.encrypt_rows(django_apps, editor)
    (stored,) = stored_form_data()
    assert_encrypted(stored, crypto.keys().current_data_version)
    assert Case.objects.get().form_data == document
    module.encrypt_rows(django_apps, editor)  # a second run changes nothing
    assert stored_form_data() == [stored]

    module.decrypt_rows(django_apps, editor)
    (plain,) = stored_form_data()
    assert json.loads(plain) == document
    assert Case.objects.get().form_data == document


def test_rotate_keys_re_encrypts_form_data(people: dict[str, User], demo_forms: None, api: Any,
                                           keyfile: Path) -> None:
    created = api_create(api("citizen"), PROXY, applicant=applicant_body(people["citizen"]),
                         form_data=form_for(PROXY))
    document = Case.objects.get().form_data
    old = crypto.keys().current_data_version
    (before,) = stored_form_data()
    assert_encrypted(before, old)

    call_command("rotate_keys", "--new-data-key", stdout=io.StringIO())

    ring = crypto.keys()
    new = ring.current_data_version
    assert new == old + 1
    (after,) = stored_form_data()
    assert_encrypted(after, new)
    # With only the new key, the form data still reads.
    index_version, index_key = ring.index[0]
    keyfile.write_text(f"data {new} {ring.data_key(new).hex()}\n"
                       f"index {index_version} {index_key.hex()}\n")
    assert crypto.keys(fresh=True).data == ((new, ring.data_key(new)),)
    assert Case.objects.get().form_data == document
    assert api("citizen").get(f"/cases/{created['id']}").json()["form_data"]["insured_id"] == \
        "620102199003077770"
