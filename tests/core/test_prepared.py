"""Statements compiled once (``tongban.core.prepared``) give what the ORM gives."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from tests.conftest import make_user
from tongban.accounts.models import Role, User
from tongban.audit.models import AuditRecord
from tongban.core import prepared, rows
from tongban.organizations.models import Department

pytestmark = pytest.mark.django_db

BY_ACTOR = prepared.Lookup(lambda pk: AuditRecord.objects.select_related("actor")
                           .filter(actor_id=pk).order_by("-seq"))
LOCKED = prepared.Lookup(lambda pk: AuditRecord.objects.select_for_update().filter(pk=pk))


def record(seq: int, actor: User | None, **extra: object) -> AuditRecord:
    return AuditRecord(seq=seq, at=timezone.now(), actor=actor, actor_name=str(actor or "system"),
                       action="test.done", object_type="test", object_id=str(seq),
                       detail={"名称": "兰州", "n": seq, **extra}, prev_hash="0" * 64, hash="1" * 64)


def test_insert_writes_the_row_the_orm_reads_back() -> None:
    user = make_user("officer", Role.OFFICER)
    mine = record(1, user)
    prepared.insert(mine)
    assert mine.pk is not None and not mine._state.adding
    stored = AuditRecord.objects.get(pk=mine.pk)
    assert (stored.seq, stored.actor_id, stored.detail, stored.at) == (1, user.pk, mine.detail,
                                                                       mine.at)


def test_lookup_gives_instances_with_related_objects_in_order() -> None:
    user = make_user("officer", Role.OFFICER, real_name="王经办")
    other = make_user("other", Role.OFFICER)
    for seq, actor in ((1, user), (2, other), (3, user)):
        prepared.insert(record(seq, actor))
    found = BY_ACTOR.all(user.pk)
    assert [r.seq for r in found] == [3, 1]
    assert found[0].actor.real_name == "王经办"  # type: ignore[union-attr]
    assert isinstance(found[0].at, dt.datetime) and found[0].at.tzinfo is not None
    assert found[0].detail == {"名称": "兰州", "n": 3}
    assert found == list(AuditRecord.objects.filter(actor=user).order_by("-seq"))
    with pytest.raises(AuditRecord.MultipleObjectsReturned):
        BY_ACTOR.get(user.pk)
    assert BY_ACTOR.get(other.pk).seq == 2
    with pytest.raises(AuditRecord.DoesNotExist):
        BY_ACTOR.get(-1)


def test_a_locking_lookup_runs_only_inside_a_transaction() -> None:
    mine = record(1, None)
    prepared.insert(mine)
    with transaction.atomic():
        assert LOCKED.get(mine.pk).pk == mine.pk


def test_update_writes_the_named_fields_and_refuses_a_missing_row(
        city_department: Department) -> None:
    department = Department.objects.get(pk=city_department.pk)
    department.address = "兰州市城关区庆阳路1号"
    department.name = "不写入"
    prepared.update(department, ["address"])
    stored = Department.objects.get(pk=department.pk)
    assert stored.address == "兰州市城关区庆阳路1号" and stored.name != "不写入"
    gone = Department(pk=-5, address="x")
    with pytest.raises(DatabaseError):
        prepared.update(gone, ["address"])


def test_a_values_read_keyed_by_text_gives_what_the_orm_gives() -> None:
    from tongban.organizations.models import Division

    Values = prepared.Values
    Division.objects.get_or_create(code="620100", defaults={"name": "兰州市", "level": "city"})
    read = Values(lambda code: Division.objects.filter(code=code).values_list("name")[:1])
    assert read.first("620100") == Division.objects.get(code="620100").name
    assert read.first("620100") == Division.objects.get(code="620100").name  # compiled once
    assert read.first("no such code") is None
    with pytest.raises(ValueError):
        Values(lambda code: Division.objects.filter(code=code, name=code).values_list("pk")).first("x")


BY_ACTOR_NAME = prepared.Lookup(lambda name: AuditRecord.objects.select_related("actor")
                                .filter(actor_name=name).order_by("seq"), text=True)


def test_a_lookup_keyed_by_text_gives_what_the_orm_gives() -> None:
    user = make_user("officer", Role.OFFICER, real_name="王经办")
    for seq, actor in ((1, user), (2, None), (3, user)):
        prepared.insert(record(seq, actor))
    name = str(user)
    found = BY_ACTOR_NAME.all(name)
    assert found == list(AuditRecord.objects.filter(actor_name=name).order_by("seq"))
    assert [r.seq for r in found] == [1, 3] and found[0].actor.real_name == "王经办"  # type: ignore[union-attr]
    assert BY_ACTOR_NAME.get("system").seq == 2
    with pytest.raises(AuditRecord.DoesNotExist):
        BY_ACTOR_NAME.get("nobody")
    with pytest.raises(ValueError):  # one text parameter, exactly
        prepared.Lookup(lambda name: AuditRecord.objects.filter(actor_name=name, action=name),
                        text=True).get("x")


def test_a_lookup_sets_its_annotations_as_the_orm_does() -> None:
    from django.db.models import Count, OuterRef, Subquery

    user = make_user("officer", Role.OFFICER)
    for seq in (1, 2, 3):
        prepared.insert(record(seq, user))
    last = AuditRecord.objects.filter(actor_id=OuterRef("pk")).order_by("-seq").values("seq")
    read = prepared.Lookup(lambda pk: User.objects.annotate(
        last_seq=Subquery(last[:1]), records=Count("pk")).filter(pk=pk))
    found = read.get(user.pk)
    expected = User.objects.annotate(last_seq=Subquery(last[:1]), records=Count("pk")).get(pk=user.pk)
    assert (found.last_seq, found.records) == (expected.last_seq, expected.records) == (3, 1)  # type: ignore[attr-defined]


USERS = prepared.Lookup(lambda pk: User.objects.filter(pk=pk))


def test_encrypted_fields_of_a_looked_up_row_are_decrypted_when_first_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import copy
    import pickle

    from tongban.core import crypto

    user = make_user("citizen", Role.CITIZEN, id_number="620102198501011234",
                     phone="13893100001")
    decrypted: list[str] = []
    real = crypto.decrypt_text

    def counting(stored: str, ring: object = None) -> str:
        decrypted.append(stored)
        return real(stored, ring)  # type: ignore[arg-type]

    monkeypatch.setattr(crypto, "decrypt_text", counting)
    found = USERS.get(user.pk)
    assert decrypted == []  # nothing decrypted by the read itself
    assert found.phone == "13893100001" and len(decrypted) == 1
    assert found.phone == "13893100001" and len(decrypted) == 1  # once
    # Saving writes the ciphertext of the value, read or not; the ORM reads the same values.
    found.real_name = "张三"
    found.save()
    stored = User.objects.get(pk=user.pk)
    assert (stored.id_number, stored.phone, stored.real_name) == (
        "620102198501011234", "13893100001", "张三")
    # A copy or a pickle of an instance carries the plain values.
    for copied in (copy.deepcopy(USERS.get(user.pk)), pickle.loads(pickle.dumps(USERS.get(user.pk)))):
        assert copied.__dict__["id_number"] == "620102198501011234"
    # A prepared update of other columns leaves the encrypted ones untouched and undecrypted.
    fresh = USERS.get(user.pk)
    decrypted.clear()
    fresh.real_name = "李四"
    prepared.update(fresh, ["real_name"])
    assert decrypted == []
    assert User.objects.get(pk=user.pk).id_number == "620102198501011234"


ROW = rows.Insert(AuditRecord, ("seq", "at", "actor", "actor_name", "action", "object_type",
                                    "object_id", "detail", "prev_hash", "hash", "algorithm",
                                    "digest_version"))


def test_a_row_written_from_values_is_the_row_save_writes() -> None:
    user = make_user("officer", Role.OFFICER)
    mine = record(7, user)
    pk = ROW.run((7, mine.at, user.pk, mine.actor_name, mine.action, mine.object_type,
                  mine.object_id, mine.detail, mine.prev_hash, mine.hash, "sha256", 2))
    saved = record(8, user)
    saved.at, saved.detail, saved.object_id = mine.at, mine.detail, mine.object_id
    saved.save()
    stored, other = AuditRecord.objects.get(pk=pk), AuditRecord.objects.get(pk=saved.pk)
    assert (stored.seq, stored.at, stored.actor_id, stored.detail) == (7, mine.at, user.pk,
                                                                       mine.detail)
    # Column by column the row save() writes (the key and the number aside).
    columns = [f.attname for f in AuditRecord._meta.concrete_fields if f.name not in ("id", "seq")]
    assert [getattr(stored, c) for c in columns] == [getattr(other, c) for c in columns]


def test_a_row_from_values_must_name_every_column() -> None:
    short = rows.Insert(AuditRecord, ("seq", "at"))
    with pytest.raises(ValueError, match="every column"):
        short.run((1, timezone.now()))


def test_a_looked_up_instance_is_the_instance_the_orm_builds() -> None:
    user = make_user("officer", Role.OFFICER)
    prepared.insert(record(1, user))
    mine = BY_ACTOR.all(user.pk)[0]
    theirs = AuditRecord.objects.select_related("actor").get(pk=mine.pk)
    assert mine.__dict__.keys() - {"_state"} == theirs.__dict__.keys() - {"_state"}
    assert all(mine.__dict__[k] == v for k, v in theirs.__dict__.items() if k != "_state")
    assert (mine._state.adding, mine._state.db) == (False, "default")
    assert mine.actor == user and mine.actor._state.db == "default"
    mine.action = "test.changed"
    mine.save(update_fields=["action"])  # an instance the ORM can save
    assert AuditRecord.objects.get(pk=mine.pk).action == "test.changed"
