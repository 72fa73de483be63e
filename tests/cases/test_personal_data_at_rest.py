"""Personal data at rest: ID numbers and phones are SM4 ciphertext in the database (a keyed blind
index serves look-ups and uniqueness), material files are ciphertext on disk, the migrations
encrypt what was stored in plain, and ``tongban rotate_keys`` moves everything to new keys."""

from __future__ import annotations

import importlib
import io
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django import forms
from django.apps import apps as django_apps
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tests.cases.conftest import PDF, TIME_LIMITED, form, item
from tests.conftest import make_user
from tongban.accounts import services as account_services
from tongban.accounts.models import Role, User
from tongban.audit.models import AuditRecord
from tongban.cases import services
from tongban.cases.materials import case_material_add
from tongban.cases.models import Case, CaseMaterial, Channel
from tongban.cases.services import AgentData, ApplicantData
from tongban.core import crypto
from tongban.core.encrypted import encrypted_models, matches
from tongban.decisions.models import AutoDecision, Outcome, RuleSet
from tongban.exchange.models import Resource, ResourceRecord
from tongban.organizations.models import Hall
from tongban.queues.models import ServiceCategory, Ticket
from tongban.queues.services import ticket_take
from tongban.ratings.models import Rating

pytestmark = pytest.mark.django_db

WALK_IN_ID = "620102199003070018"
WALK_IN_PHONE = "13893100009"
AGENT_ID = "620102199001010062"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def keyfile(settings: Any, tmp_path: Path) -> Path:
    """A key file of the test's own (a copy of the current keys), so rotation touches nothing else."""
    path = tmp_path / "keys" / "personal-data.keys"
    path.parent.mkdir()
    shutil.copy(crypto.key_path(), path)
    settings.PERSONAL_DATA_KEY_FILE = str(path)
    return path


def raw(table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(q(c) for c in columns)} FROM {q(table)} ORDER BY 1")
        return [tuple(row) for row in cursor.fetchall()]


def walk_in_case(people: dict[str, User]) -> Case:
    return services.case_create(
        actor=people["clerk"], item=item(TIME_LIMITED), channel=Channel.WINDOW,
        applicant=ApplicantData(kind="natural_person", name="王五", id_number=WALK_IN_ID,
                                phone=WALK_IN_PHONE),
        agent=AgentData(name="赵六", id_number=AGENT_ID, authorization="委托办理"),
        form_data=form())


def everything_stored(people: dict[str, User]) -> None:
    case = walk_in_case(people)
    hall = Hall.objects.get(name="兰州市政务服务中心")
    ticket_take(hall=hall, category=ServiceCategory.objects.create(hall=hall, code="A", name="综合"),
                phone=WALK_IN_PHONE)
    Rating.objects.create(channel="online", case=case, item=case.item, department=case.department,
                          rater_name="王五", rater_phone=WALK_IN_PHONE, rater_id_number=WALK_IN_ID,
                          level=5, created_at=timezone.now())
    # A provider's record held for the exchange: the subject and every value are personal.
    resource = Resource.objects.create(code="LZ-GA-0001", provider=case.department)
    ResourceRecord.objects.create(resource=resource, subject=WALK_IN_ID, as_of=timezone.now(),
                                  values={"id_number": WALK_IN_ID, "phone": WALK_IN_PHONE})
    # An e-licence: its holder's ID number and its signed content (the surface) are personal.
    from tongban.accounts.permissions import SYSTEM
    from tongban.licences import services as licences
    from tongban.licences.models import LicenceType

    licence_type = LicenceType.objects.create(
        code="11100000000013338W001", name="居民身份证", holder_kind="natural_person",
        department=case.department, fields=[{"key": "holder_id", "name": "公民身份号码"},
                                            {"key": "phone", "name": "电话", "required": True}])
    licences.licence_issue(actor=SYSTEM, licence_type=licence_type, issuer=case.department,
                           holder=licences.Holder("natural_person", "王五", WALK_IN_ID),
                           surface={"phone": WALK_IN_PHONE})

    # What a rule set read about the case (秒批): the applicant's ID number among its inputs.
    rules = RuleSet.objects.create(item=case.item, item_version=case.item_version, version=1,
                                   name="规则", jdm={}, conditions={}, tests=[])
    AutoDecision.objects.create(case=case, rule_set=rules, outcome=Outcome.REFERRED,
                                inputs={"applicant": {"id_number": WALK_IN_ID}},
                                submitted_at=timezone.now(), evaluated_at=timezone.now())


# --- the database holds no plain ID number or phone ----------------------------------------

def test_raw_rows_hold_no_plain_id_number_or_phone(people: dict[str, User]) -> None:
    everything_stored(people)
    plain = {WALK_IN_ID, WALK_IN_PHONE, AGENT_ID, "620102199003077770", "13893100001"}
    checked = set()
    for model, text, index, _files, _documents in encrypted_models():
        if not (text or index):
            continue  # material files: below
        pk = model._meta.pk
        assert pk is not None and pk.column is not None
        rows = raw(model._meta.db_table, [pk.column, *text, *index])
        assert rows, model
        for row in rows:
            for value in row[1:]:
                assert value == "" or value.startswith(("sm4:", "1:")), (model, value)
                assert not any(p in value for p in plain), (model, value)
        checked.add(model._meta.label)
    assert checked == {"accounts.User", "cases.Case", "ratings.Rating", "queues.Ticket",
                       "exchange.ResourceRecord", "licences.Licence"}
    assert [(m._meta.label, files) for m, _t, _i, files, _d in encrypted_models() if files] == [
        ("cases.CaseMaterial", ["file"])]
    # The models read the plain values back.
    case = Case.objects.get()
    assert (case.applicant_id_number, case.applicant_phone, case.agent_id_number) == (
        WALK_IN_ID, WALK_IN_PHONE, AGENT_ID)
    rating = Rating.objects.get()
    assert (rating.rater_id_number, rating.rater_phone) == (WALK_IN_ID, WALK_IN_PHONE)
    assert Ticket.objects.get().phone == WALK_IN_PHONE
    record = ResourceRecord.objects.get()
    assert (record.subject, record.values) == (
        WALK_IN_ID, {"id_number": WALK_IN_ID, "phone": WALK_IN_PHONE})
    citizen = User.objects.get(username="zhangsan")
    assert (citizen.id_number, citizen.phone) == ("620102199003077770", "13893100001")


def test_a_value_under_a_key_added_by_another_process_is_read(keyfile: Path,
                                                              monkeypatch: Any) -> None:
    monkeypatch.setattr(crypto, "KEY_RECHECK_SECONDS", 3600.0)  # no periodic look meanwhile
    stale = crypto.keys()
    other = keyfile.read_text(encoding="ascii")
    new_key = "00112233445566778899aabbccddeeff"
    keyfile.write_text(f"data 7 {new_key}\n{other}", encoding="ascii")  # another process
    ring = crypto.parse_key_file(keyfile.read_text(encoding="ascii"))
    stored = crypto.encrypt_text(WALK_IN_ID, ring)
    assert crypto.keys() is stale  # this process has not looked at the file again yet
    assert crypto.decrypt_text(stored) == WALK_IN_ID
    assert crypto.keys().current_data_version == 7


def test_an_encrypted_field_is_a_one_line_input_in_forms() -> None:
    assert isinstance(User._meta.get_field("id_number").formfield().widget, forms.TextInput)


def test_an_encrypted_field_refuses_a_plain_comparison(people: dict[str, User]) -> None:
    with pytest.raises(Exception, match="encrypted"):
        User.objects.filter(id_number="620102199003077770").exists()
    assert list(User.objects.filter(matches("id_number", "620102199003077770"))) == [
        people["citizen"]]


# --- look-up and uniqueness through the blind index ----------------------------------------

def test_an_id_number_is_unique_in_the_database_and_refused_at_registration(
        people: dict[str, User]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make_user("twin", Role.CITIZEN, id_number="620102199003077770")
    fields = account_services.UserFields(username="twin", role=Role.CITIZEN, real_name="张三",
                                         id_number="620102199003077770", phone="13893100002")
    assert [(p.field, str(p.message)) for p in account_services.user_check(fields)] == [
        ("id_number", "该公民身份号码已注册账户")]
    other = account_services.UserFields(username="twin", role=Role.CITIZEN, real_name="张三",
                                        id_number="620102199202020013", phone="13893100002")
    assert account_services.user_check(other) == []
    # Two accounts without an ID number are fine (the index of "" is "").
    make_user("staff1", Role.CLERK)
    make_user("staff2", Role.CLERK)


def test_a_changed_id_number_is_found_by_the_new_one_only(people: dict[str, User]) -> None:
    citizen = people["citizen"]
    fields = account_services.UserFields(username="zhangsan", role=Role.CITIZEN, real_name="张三",
                                         id_number="620102199202020013", phone="13893100001")
    account_services.user_update(actor=citizen, user=citizen, fields=fields)
    assert list(User.objects.filter(matches("id_number", "620102199202020013"))) == [citizen]
    assert not User.objects.filter(matches("id_number", "620102199003077770")).exists()


def test_unified_identity_login_finds_the_account_by_its_id_number(people: dict[str, User]) -> None:
    user = account_services.account_from_identity(identity=account_services.Identity(
        name="张三", id_number="620102199003077770", phone="13893100001"))
    assert user == people["citizen"]
    assert User.objects.filter(role=Role.CITIZEN).count() == 2


def test_one_waiting_ticket_per_phone_still_holds(people: dict[str, User]) -> None:
    hall = Hall.objects.get(name="兰州市政务服务中心")
    category = ServiceCategory.objects.create(hall=hall, code="A", name="综合")
    ticket_take(hall=hall, category=category, phone=WALK_IN_PHONE)
    with pytest.raises(Exception, match="已有等候中的号码"):
        ticket_take(hall=hall, category=category, phone="138 9310 0009")
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.create(hall=hall, category=category, day=timezone.localdate(), seq=99,
                              number="A099", taken_at=timezone.now(), phone=WALK_IN_PHONE)
    assert ticket_take(hall=hall, category=category, phone="13893100010").phone == "13893100010"


# --- material files ------------------------------------------------------------------------

def test_a_material_file_on_disk_is_not_the_plain_bytes_and_the_download_is(
        people: dict[str, User], media: Path, api: Any) -> None:
    citizen = people["citizen"]
    case = services.case_create(
        actor=citizen, item=item(TIME_LIMITED), channel=Channel.ONLINE,
        applicant=ApplicantData(kind="natural_person", name="张三", id_number=citizen.id_number,
                                phone=citizen.phone), form_data=form())
    material = case.item_version.materials.order_by("position").first()
    record = case_material_add(actor=citizen, case=case, material=material, name="",
                               upload=io.BytesIO(PDF), original_name="申请书.pdf")
    on_disk = (media / str(record.file.name)).read_bytes()
    assert on_disk.startswith(crypto.FILE_MAGIC) and PDF not in on_disk and b"%PDF" not in on_disk
    response = api("citizen").get(f"/cases/{case.pk}/materials/{record.pk}/file")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Length"] == str(len(PDF))
    assert api("other").get(f"/cases/{case.pk}/materials/{record.pk}/file").status_code in {403, 404}


# --- the migrations encrypt what was stored in plain ---------------------------------------

def run_data_migration(app: str, name: str) -> None:
    module = importlib.import_module(f"tongban.{app}.migrations.{name}")
    module.encrypt_rows(django_apps, SimpleNamespace(connection=connection))


def test_the_migrations_encrypt_existing_rows_and_files(people: dict[str, User],
                                                        media: Path) -> None:
    case = walk_in_case(people)
    record = CaseMaterial.objects.create(case=case, name="身份证复印件", state="supplied")
    default_storage.save("cases/2026/01/old.pdf", ContentFile(PDF))  # stored before encryption
    CaseMaterial.objects.filter(pk=record.pk).update(file="cases/2026/01/old.pdf")
    q = connection.ops.quote_name
    with connection.cursor() as cursor:  # rows as the earlier schema stored them
        cursor.execute(f"UPDATE {q('accounts_user')} SET {q('id_number')} = %s, {q('phone')} = %s, "
                       f"{q('id_number_index')} = '' WHERE {q('username')} = 'zhangsan'",
                       ["620102199003077770", "13893100001"])
        cursor.execute(f"UPDATE {q('cases_case')} SET {q('applicant_id_number')} = %s, "
                       f"{q('applicant_phone')} = %s, {q('agent_id_number')} = %s",
                       [WALK_IN_ID, WALK_IN_PHONE, AGENT_ID])
    assert raw("cases_case", ["applicant_id_number"]) == [(WALK_IN_ID,)]
    # Plain rows and files are still read as they are until the migration runs.
    assert User.objects.get(username="zhangsan").id_number == "620102199003077770"
    with CaseMaterial.objects.get(pk=record.pk).file.open("rb") as handle:
        assert handle.read() == PDF

    run_data_migration("accounts", "0004_encrypt_personal_data")
    run_data_migration("cases", "0004_encrypt_personal_data")

    (id_number, phone, index), = [
        r for r in raw("accounts_user", ["id_number", "phone", "id_number_index"])
        if r[0] and crypto.decrypt_text(r[0]) == "620102199003077770"]
    assert id_number.startswith("sm4:") and phone.startswith("sm4:")
    assert index == crypto.blind_index("620102199003077770")
    assert User.objects.get(matches("id_number", "620102199003077770")).username == "zhangsan"
    (stored,) = raw("cases_case", ["applicant_id_number", "applicant_phone", "agent_id_number"])
    assert all(v.startswith("sm4:") for v in stored)
    assert Case.objects.values_list("applicant_id_number", "applicant_phone", "agent_id_number").get() == (
        WALK_IN_ID, WALK_IN_PHONE, AGENT_ID)
    assert (media / "cases/2026/01/old.pdf").read_bytes().startswith(crypto.FILE_MAGIC)
    with CaseMaterial.objects.get(pk=record.pk).file.open("rb") as handle:
        assert handle.read() == PDF


# --- rotation ------------------------------------------------------------------------------

def test_rotate_keys_re_encrypts_under_new_keys_and_look_ups_keep_working(
        people: dict[str, User], keyfile: Path, media: Path) -> None:
    everything_stored(people)
    citizen = people["citizen"]
    case = Case.objects.get()
    material = case.item_version.materials.order_by("position").first()
    record = case_material_add(actor=people["clerk"], case=case, material=material, name="",
                               upload=io.BytesIO(PDF), original_name="申请书.pdf")
    old_ring = crypto.keys()

    call_command("rotate_keys", "--new-data-key", "--new-index-key", stdout=io.StringIO())

    ring = crypto.keys()
    assert (ring.current_data_version, ring.current_index_version) == (2, 2)
    assert [v for v, _k in ring.data] == [2, 1] and [v for v, _k in ring.index] == [2, 1]
    (id_number, index), = [r for r in raw("accounts_user", ["id_number", "id_number_index"])
                           if r[1] and r[1] == crypto.blind_index("620102199003077770", ring)]
    assert crypto.text_key_version(id_number) == 2 and index.startswith("2:")
    for model, text, index_columns, _files, _documents in encrypted_models():
        if not (text or index_columns):
            continue
        for row in raw(model._meta.db_table, [*text, *index_columns]):
            for value in row:
                assert value == "" or value.startswith(("sm4:2:", "2:")), (model, value)
    on_disk = (media / str(record.file.name)).read_bytes()
    assert crypto.bytes_key_version(on_disk) == 2
    # The old keys are no longer needed: with only the new ones, everything reads.
    keyfile.write_text("".join(f"{kind} 2 {key.hex()}\n" for kind, key in
                               (("data", ring.data_key(2)), ("index", ring.index[0][1]))))
    assert crypto.keys(fresh=True).data == ((2, ring.data_key(2)),)
    assert User.objects.get(matches("id_number", "620102199003077770")) == citizen
    assert Case.objects.get().applicant_id_number == WALK_IN_ID
    with CaseMaterial.objects.get(pk=record.pk).file.open("rb") as handle:
        assert handle.read() == PDF
    assert old_ring.data[0][1] != ring.data_key(2)
    audit = AuditRecord.objects.filter(action="personal_data.rotated").get()
    assert audit.object_id == "data:2,index:2" and audit.actor_name == "system"
    # Rows and files holding personal data: 张三 and 李四 (staff accounts hold none), the case,
    # the rating, the ticket, the material file, the record held for the exchange and what the
    # rules of an automatic decision read.
    assert audit.detail["rewritten"] == {"accounts.User": 2, "cases.Case": 1,
                                         "cases.CaseMaterial": 1, "ratings.Rating": 1,
                                         "queues.Ticket": 1, "exchange.ResourceRecord": 1,
                                         "exchange.ExchangeUse": 0,
                                         "licences.Licence": 1, "decisions.AutoDecision": 1}
    assert AutoDecision.objects.get().inputs == {"applicant": {"id_number": WALK_IN_ID}}


def test_look_ups_match_rows_indexed_under_an_older_index_key(people: dict[str, User],
                                                              keyfile: Path) -> None:
    crypto.add_key("index")  # a new index key, rows not re-indexed yet
    assert crypto.keys().current_index_version == 2
    assert User.objects.get(matches("id_number", "620102199003077770")) == people["citizen"]
    fields = account_services.UserFields(username="twin", role=Role.CITIZEN, real_name="张三",
                                         id_number="620102199003077770", phone="13893100002")
    assert [p.field for p in account_services.user_check(fields)] == ["id_number"]


# --- the key file --------------------------------------------------------------------------

def test_a_key_file_is_generated_once_with_mode_600(settings: Any, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path / "data"
    settings.PERSONAL_DATA_KEY_FILE = ""
    ring = crypto.keys(fresh=True)
    path = tmp_path / "data" / "personal-data.keys"
    assert path.stat().st_mode & 0o777 == 0o600
    assert [v for v, _k in ring.data] == [1] and len(ring.data[0][1]) == crypto.DATA_KEY_BYTES
    assert [v for v, _k in ring.index] == [1] and len(ring.index[0][1]) == crypto.INDEX_KEY_BYTES
    crypto.generate_key_file(path)  # a second process starting: the first file stays
    assert crypto.keys(fresh=True) == ring
    assert sorted(p.name for p in path.parent.iterdir()) == ["personal-data.keys"]


def test_a_configured_key_file_that_is_missing_or_malformed_is_named(settings: Any,
                                                                    tmp_path: Path) -> None:
    settings.PERSONAL_DATA_KEY_FILE = str(tmp_path / "missing.keys")
    with pytest.raises(ImproperlyConfigured, match=r"missing\.keys does not exist"):
        crypto.keys(fresh=True)
    (tmp_path / "bad.keys").write_text("data 1 0011\nindex 1 " + "00" * 32 + "\n")
    settings.PERSONAL_DATA_KEY_FILE = str(tmp_path / "bad.keys")
    with pytest.raises(ImproperlyConfigured, match="line 1: an SM4 key has 32 hex digits"):
        crypto.keys(fresh=True)
