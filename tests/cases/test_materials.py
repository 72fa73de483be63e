"""A case's materials: the type judged by content, size limits, SHA-256, storage through Django's
storage API, replacement, and 容缺 promises that let a case be accepted but not handed over."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage

from tests.cases.conftest import ON_THE_SPOT, PDF, SAME_DAY, TIME_LIMITED, form, item, pdf
from tongban.accounts.models import User
from tongban.cases import services
from tongban.cases.materials import case_material_add, outstanding_promises, size_text
from tongban.cases.models import Case, CaseEvent, CaseMaterial, Channel, Notice, Status
from tongban.cases.services import ApplicantData
from tongban.cases.workflows.models import StepTask
from tongban.catalog.models import Material
from tongban.core.errors import AccessDenied, RuleViolation

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


def zipped(names: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, data in names.items():
            package.writestr(name, data)
    return buffer.getvalue()


OFD = zipped({"OFD.xml": b"<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'/>",
              "Doc_0/Document.xml": b"<ofd:Document/>"})


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def stored_name(record: CaseMaterial) -> str:
    name = record.file.name
    assert name is not None
    return name


def applicant(user: User) -> ApplicantData:
    return ApplicantData(kind="natural_person", name=user.real_name, id_number=user.id_number,
                         phone=user.phone)


def new_case(user: User, code: str = TIME_LIMITED) -> Case:
    return services.case_create(actor=user, item=item(code), channel=Channel.ONLINE,
                                applicant=applicant(user), form_data=form())


def first_material(case: Case) -> Material:
    material = case.item_version.materials.order_by("position").first()
    assert material is not None
    return material


def add(actor: User, case: Case, data: bytes, name: str = "申请书.pdf",
        material: Material | None = None) -> CaseMaterial:
    return case_material_add(actor=actor, case=case, material=material or first_material(case),
                             name="", upload=io.BytesIO(data), original_name=name)


def refusal(exc: pytest.ExceptionInfo[RuleViolation]) -> list[tuple[str, str]]:
    return [(p.field, str(p.message)) for p in exc.value.problems]


# --- content, size, digest, storage ----------------------------------------------------------

def test_a_pdf_is_stored_with_its_digest_and_readable_through_storage(
        people: dict[str, User], media: Path) -> None:
    citizen = people["citizen"]
    case = new_case(citizen)
    record = add(citizen, case, PDF, name="C:\\Users\\张三\\申请书.pdf")
    record.refresh_from_db()
    assert (record.content_type, record.size, record.state) == ("application/pdf", len(PDF), "supplied")
    assert record.sha256 == hashlib.sha256(PDF).hexdigest()
    assert record.original_name == "申请书.pdf"
    assert record.name == first_material(case).name and record.uploaded_by == citizen
    assert stored_name(record).endswith(".pdf") and stored_name(record).startswith("cases/")
    # On disk the file is SM4 ciphertext (docs/privacy.md); through the record's storage it is
    # the original.
    with default_storage.open(stored_name(record)) as stored:
        assert PDF not in stored.read()
    with record.file.open("rb") as stored:
        assert stored.read() == PDF
    assert stored_files(media) == [media / stored_name(record)]


def test_the_type_comes_from_the_content_not_the_name(people: dict[str, User]) -> None:
    citizen = people["citizen"]
    case = new_case(citizen)
    png = add(citizen, case, PNG, name="营业执照.pdf")
    assert (png.content_type, stored_name(png)[-4:], png.original_name) == (
        "image/png", ".png", "营业执照.pdf")
    materials = list(case.item_version.materials.order_by("position"))
    jpeg = add(citizen, case, JPEG, name="photo.png", material=materials[1])
    assert (jpeg.content_type, stored_name(jpeg)[-4:]) == ("image/jpeg", ".jpg")
    ofd = add(citizen, case, OFD, name="电子证照.zip", material=materials[2])
    assert (ofd.content_type, stored_name(ofd)[-4:]) == ("application/ofd", ".ofd")


@pytest.mark.parametrize("data", [
    EXE,  # a program renamed .pdf
    zipped({"word/document.xml": b"<w:document/>"}),  # a ZIP that is not OFD (here a .docx)
    b"PK\x03\x04" + b"\x00" * 40,  # a broken ZIP
    b"<html><body>%PDF-1.4</body></html>",
])
def test_other_content_is_refused_and_nothing_is_stored(people: dict[str, User], media: Path,
                                                        data: bytes) -> None:
    citizen = people["citizen"]
    case = new_case(citizen)
    with pytest.raises(RuleViolation) as exc:
        add(citizen, case, data, name="申请书.pdf")
    assert refusal(exc) == [("file", "只接受PDF、JPG、PNG或OFD文件（按文件内容判断，与文件名无关）")]
    assert not CaseMaterial.objects.exists() and stored_files(media) == []


def test_size_limit_and_empty_files(people: dict[str, User], media: Path, settings: Any) -> None:
    citizen = people["citizen"]
    case = new_case(citizen)
    settings.CASE_UPLOAD_MAX_BYTES = 2 * 1024
    with pytest.raises(RuleViolation) as exc:
        add(citizen, case, PDF + b"0" * (2 * 1024 + 1 - len(PDF)))
    assert refusal(exc) == [("file", "文件超过2KB的上限")]
    with pytest.raises(RuleViolation) as exc:
        add(citizen, case, b"")
    assert refusal(exc) == [("file", "文件为空")]
    assert not CaseMaterial.objects.exists() and stored_files(media) == []
    # Exactly at the limit is fine.
    record = add(citizen, case, PDF + b"0" * (2 * 1024 - len(PDF)))
    assert record.size == 2 * 1024


def test_size_text() -> None:
    assert [size_text(n) for n in (10 * 1024 * 1024, 1536, 2048, 999)] == ["10MB", "1.5KB", "2KB", "999B"]


def test_a_new_file_supersedes_the_old_which_is_kept(people: dict[str, User], media: Path) -> None:
    citizen = people["citizen"]
    case = new_case(citizen)
    old = add(citizen, case, PDF)
    new = add(citizen, case, PNG)
    old.refresh_from_db()
    assert (old.superseded, new.superseded) == (True, False)
    assert len(stored_files(media)) == 2
    with old.file.open("rb") as stored:
        assert stored.read() == PDF


def test_additional_documents_need_a_name(people: dict[str, User]) -> None:
    citizen = people["citizen"]
    case = new_case(citizen)
    with pytest.raises(RuleViolation) as exc:
        case_material_add(actor=citizen, case=case, material=None, name=" ", upload=pdf(),
                          original_name="x.pdf")
    assert refusal(exc) == [("name", "须填写材料名称")]
    extra = case_material_add(actor=citizen, case=case, material=None, name="补充说明", upload=pdf(),
                              original_name="x.pdf")
    assert (extra.name, extra.material) == ("补充说明", None)


def test_a_material_of_another_item_is_refused(people: dict[str, User]) -> None:
    citizen = people["citizen"]
    case = new_case(citizen)
    foreign = first_material(new_case(citizen, SAME_DAY))
    with pytest.raises(RuleViolation) as exc:
        add(citizen, case, PDF, material=foreign)
    assert refusal(exc) == [("material", "该材料不属于本办件的事项版本")]


def test_another_citizen_cannot_add_to_my_case(people: dict[str, User], media: Path) -> None:
    case = new_case(people["citizen"])
    for outsider in (people["other"], people["hr_officer"]):
        with pytest.raises(AccessDenied):
            add(outsider, case, PDF)
    assert not CaseMaterial.objects.exists() and stored_files(media) == []


def test_staff_receiving_the_case_may_add(people: dict[str, User]) -> None:
    case = new_case(people["citizen"])
    record = add(people["clerk"], case, PDF)
    assert record.uploaded_by == people["clerk"]


def test_no_materials_after_the_case_is_closed(people: dict[str, User], media: Path) -> None:
    citizen = people["citizen"]
    case = new_case(citizen)
    services.case_withdraw(actor=citizen, case=case, reason="不办了")
    with pytest.raises(RuleViolation) as exc:
        add(citizen, case, PDF)
    assert refusal(exc) == [("case", "办件当前状态为“已撤回”，不能再提交材料")]
    assert stored_files(media) == []


# --- 容缺: promised materials ---------------------------------------------------------------

def deferrable(case: Case) -> Material:
    return case.item_version.materials.get(necessity=Material.Necessity.DEFERRABLE)


def supply_all_but_deferrable(user: User, case: Case) -> None:
    for m in case.item_version.materials.exclude(necessity=Material.Necessity.DEFERRABLE):
        add(user, case, PDF, material=m)


def open_task(case: Case) -> StepTask:
    return StepTask.objects.get(case=case, status="open")


def test_a_promise_lets_the_case_be_accepted_but_the_result_waits_for_the_file(
        people: dict[str, User]) -> None:
    citizen, officer, head = people["citizen"], people["officer"], people["head"]
    case = new_case(citizen)
    supply_all_but_deferrable(citizen, case)
    health = deferrable(case)
    assert [m.name for m in services.missing_materials(case)] == ["从业人员健康证明"]
    services.case_submit(actor=citizen, case=case)
    with pytest.raises(RuleViolation):
        services.case_accept(actor=officer, case=case)

    due = dt.date.today() + dt.timedelta(days=20)
    promise = services.case_material_promise(actor=citizen, case=case, material=health,
                                             promise="本人承诺领证前补交从业人员健康证明", promised_by=due)
    assert (promise.state, promise.promised_by, promise.file.name) == ("promised", due, "")
    event = CaseEvent.objects.filter(case=case).last()
    assert event is not None and (event.action, event.reason) == (
        "promise_material", "本人承诺领证前补交从业人员健康证明")
    assert services.missing_materials(case) == []
    services.case_accept(actor=officer, case=case)
    services.case_step(actor=officer, task=open_task(case), action="approve")
    services.case_step(actor=head, task=open_task(case), action="approve")
    case.refresh_from_db()
    assert case.status == Status.APPROVED
    assert [m.name for m in outstanding_promises(case)] == ["从业人员健康证明"]

    with pytest.raises(RuleViolation) as exc:
        services.case_deliver(actor=officer, case=case, delivery="online")
    assert refusal(exc) == [("materials", "容缺承诺的材料尚未补交：从业人员健康证明；补交后方可送达办理结果")]
    case.refresh_from_db()
    assert case.status == Status.APPROVED

    # After approval only the promised material may still be uploaded.
    with pytest.raises(RuleViolation):
        add(citizen, case, PDF)
    supplied = add(citizen, case, PNG, material=health)
    promise.refresh_from_db()
    assert (supplied.state, promise.superseded) == ("supplied", True)
    assert outstanding_promises(case) == []
    services.case_deliver(actor=officer, case=case, delivery="online")
    case.refresh_from_db()
    assert case.status == Status.DELIVERED
    acceptance = case.notices.get(kind=Notice.Kind.ACCEPTANCE)
    assert acceptance.number.startswith("SL")


def test_promise_rules(people: dict[str, User]) -> None:
    citizen = people["citizen"]
    case = new_case(citizen)
    health, required = deferrable(case), first_material(case)
    later = dt.date.today() + dt.timedelta(days=10)
    with pytest.raises(RuleViolation) as exc:
        services.case_material_promise(actor=citizen, case=case, material=required, promise="承诺",
                                       promised_by=later)
    assert refusal(exc) == [("material", "该材料不允许容缺后补")]
    with pytest.raises(RuleViolation) as exc:
        services.case_material_promise(actor=citizen, case=case, material=health, promise=" ",
                                       promised_by=dt.date(2020, 1, 1))
    assert refusal(exc) == [("promise", "容缺须有书面承诺"), ("promised_by", "承诺补交日期不能早于今天")]
    with pytest.raises(AccessDenied):
        services.case_material_promise(actor=people["other"], case=case, material=health,
                                       promise="承诺", promised_by=later)
    assert not CaseMaterial.objects.exists()

    # A second promise replaces the first; a supplied material needs no promise.
    first = services.case_material_promise(actor=citizen, case=case, material=health,
                                           promise="承诺一", promised_by=later)
    second = services.case_material_promise(actor=citizen, case=case, material=health,
                                            promise="承诺二", promised_by=later)
    first.refresh_from_db()
    assert first.superseded and not second.superseded
    add(citizen, case, PDF, material=health)
    with pytest.raises(RuleViolation) as exc:
        services.case_material_promise(actor=citizen, case=case, material=health, promise="承诺三",
                                       promised_by=later)
    assert refusal(exc) == [("material", "该材料已提交，无需容缺承诺")]


def test_no_promise_for_on_the_spot_items(people: dict[str, User]) -> None:
    clerk = people["clerk"]
    case = services.case_create(actor=clerk, item=item(ON_THE_SPOT), channel=Channel.WINDOW,
                                applicant=ApplicantData(kind="natural_person", name="王五",
                                                        id_number="620102199003070018"),
                                form_data=form())
    # The demo on-the-spot item has no 容缺 material; make one to show the rule.
    material = first_material(case)
    Material.objects.filter(pk=material.pk).update(necessity=Material.Necessity.DEFERRABLE)
    material.refresh_from_db()
    with pytest.raises(RuleViolation) as exc:
        services.case_material_promise(actor=clerk, case=case, material=material, promise="承诺",
                                       promised_by=dt.date.today() + dt.timedelta(days=3))
    assert refusal(exc) == [("material", "即收即办事项须材料齐全，不适用容缺后补")]
