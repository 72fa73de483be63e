"""The exchange: held records, the stable consumer call, its record and audit, the provider
adapter against a local fake provider, usage, the citizen's own page and the census."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from openpyxl import Workbook

from tests.audit.conftest import number_after_table
from tests.conftest import make_user
from tests.exchange.conftest import handled_case
from tongban.accounts.models import Role, User
from tongban.audit.models import AuditRecord
from tongban.audit.sealing import audit_seal
from tongban.core import crypto
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.exchange.models import (
    Credential,
    ExchangeUse,
    Grant,
    RecordBatch,
    Resource,
    ResourceRecord,
    ResourceVersion,
    ShareMethod,
)
from tongban.exchange.selectors import sharing as selectors
from tongban.exchange.services import sharing, sharing_records
from tongban.organizations.models import Department

ZHANG = "620102199001011233"
PEOPLE_CSV = (
    "id_number,name,sex,birth_date,ethnicity,address\n"
    f"{ZHANG},张明,1,1990-01-01,01,兰州市城关区皋兰路1号\n"
    "620102198503150028,李芳,2,1985-03-15,01,兰州市七里河区西津西路20号\n"
)


@pytest.fixture
def grant(market_data_officer: User, bureau_data_officer: User, police_data_officer: User,
          people_resource: Resource) -> Grant:
    """兰州市市场监督管理局 → LZ-GA-0001 (name, id_number, address; id_number masked), with
    the provider's records loaded."""
    sharing_records.records_import(actor=police_data_officer, resource=people_resource,
                           content=PEOPLE_CSV.encode(), file_name="people.csv")
    demand = sharing.data_request_file(
        actor=market_data_officer, resource=people_resource,
        field_keys=["name", "id_number", "address"], purpose="食品经营许可核验申请人身份",
        legal_basis="《食品经营许可和备案管理办法》")
    sharing.data_request_check(actor=bureau_data_officer, request=demand)
    sharing.data_request_answer(actor=police_data_officer, request=demand, approve=True,
                                masked_keys=["id_number"], calls_per_minute=5)
    return Grant.objects.get(request=demand)


@pytest.fixture
def key(grant: Grant, market_data_officer: User) -> str:
    return sharing.credential_issue(actor=market_data_officer, grant=grant, days=30)[1]


def call(key: str | None, path: str) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return Client().get(path, headers=headers)


# --- held records ---------------------------------------------------------------------------

def test_an_upload_is_refused_whole_on_a_bad_row(police_data_officer: User,
                                                 people_resource: Resource) -> None:
    bad = PEOPLE_CSV + "620102199001011234,王五,9,1990-13-01,01,某地\n"
    with pytest.raises(RuleViolation) as refused:
        sharing_records.records_import(actor=police_data_officer, resource=people_resource,
                               content=bad.encode(), file_name="people.csv")
    where = {(p.row, p.column) for p in refused.value.problems}
    assert (4, "id_number") in where and (4, "birth_date") in where
    assert not ResourceRecord.objects.exists() and not RecordBatch.objects.exists()


def test_a_good_upload_replaces_or_upserts_by_subject(police_data_officer: User,
                                                      market_data_officer: User,
                                                      people_resource: Resource) -> None:
    with pytest.raises(AccessDenied):
        sharing_records.records_import(actor=market_data_officer, resource=people_resource,
                               content=PEOPLE_CSV.encode(), file_name="people.csv")
    result = sharing_records.records_import(actor=police_data_officer, resource=people_resource,
                                    content=PEOPLE_CSV.encode(), file_name="people.csv")
    assert (result.rows, result.created) == (2, 2)
    record = ResourceRecord.objects.get(subject_index=crypto.blind_index(ZHANG))
    assert record.values["name"] == "张明" and record.values["birth_date"] == "1990-01-01"
    # An XLSX with item names for columns, upserting one person.
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["公民身份号码", "姓名", "户籍地址"])
    sheet.append([ZHANG, "张明", "兰州市城关区庆阳路2号"])
    buffer = io.BytesIO()
    book.save(buffer)
    result = sharing_records.records_import(actor=police_data_officer, resource=people_resource,
                                    content=buffer.getvalue(), file_name="people.xlsx",
                                    replace=False)
    assert (result.created, result.updated) == (0, 1)
    assert ResourceRecord.objects.count() == 2
    record.refresh_from_db()
    assert record.values["address"] == "兰州市城关区庆阳路2号"
    assert AuditRecord.objects.filter(action="resource_records.imported").count() == 2


def test_the_import_command(police_data_officer: User, bureau_data_officer: User,
                            people_resource: Resource, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE_CSV + "bad,,,,,\n", encoding="utf-8")
    with pytest.raises(CommandError) as failed:
        call_command("import_records", "LZ-GA-0001", str(path), stdout=io.StringIO())
    assert "第4行" in str(failed.value)
    path.write_text(PEOPLE_CSV, encoding="utf-8")
    out = io.StringIO()
    call_command("import_records", "LZ-GA-0001", str(path), "--dry-run", stdout=out)
    assert not ResourceRecord.objects.exists() and "2" in out.getvalue()
    call_command("import_records", "LZ-GA-0001", str(path), stdout=out)
    assert ResourceRecord.objects.count() == 2


# --- the exchange call ----------------------------------------------------------------------

def test_the_exchange_answers_granted_items_masked_and_records_the_use(
        key: str, grant: Grant, market_data_officer: User) -> None:
    handled_case(market_data_officer.department, "LZ2026120700001")  # type: ignore[arg-type]
    response = call(key, f"/api/v1/exchange/LZ-GA-0001?subject={ZHANG}&case=LZ2026120700001")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["resource"] == "LZ-GA-0001" and body["source"] == "兰州市公安局"
    assert body["subject"] == "6201**********1233"
    assert body["items"] == {"name": "张明", "id_number": "6201**********1233",
                             "address": "兰州市城关区皋兰路1号"}
    assert body["as_of"].endswith("+08:00")

    use = ExchangeUse.objects.get()
    assert (use.consumer, use.person, use.case_number, use.found) == (
        market_data_officer.department, market_data_officer, "LZ2026120700001", True)
    assert use.subject_index == crypto.blind_index(ZHANG) and ZHANG not in use.subject_index
    audit = AuditRecord.objects.get(action="exchange.read")
    assert audit.seq == use.audit_seq and ZHANG not in json.dumps(audit.detail)

    fewer = call(key, f"/api/v1/exchange/LZ-GA-0001?subject={ZHANG}&items=name").json()
    assert fewer["items"] == {"name": "张明"}


def test_the_exchange_refuses_what_is_not_granted(key: str, grant: Grant,
                                                  market_data_officer: User) -> None:
    def refused(key: str | None) -> str:
        response = call(key, f"/api/v1/exchange/LZ-GA-0001?subject={ZHANG}")
        assert response.status_code == 401
        return str(response.json()["detail"])

    assert refused(None) == "缺少数据交换密钥：请在请求头 Authorization 中以 Bearer 方式提供密钥"
    assert refused("tbx_nonsense") == "数据交换密钥不存在，请核对或重新领取"
    assert refused("abc") == "不是有效的数据交换密钥（密钥以tbx_开头）"
    revoked, revoked_key = sharing.credential_issue(actor=market_data_officer, grant=grant,
                                                    days=1)
    sharing.credential_revoke(actor=market_data_officer, credential=revoked)
    assert refused(revoked_key).startswith("该数据交换密钥已于") and "吊销" in refused(revoked_key)
    expired, expired_key = sharing.credential_issue(actor=market_data_officer, grant=grant, days=1)
    Credential.objects.filter(pk=expired.pk).update(expires_at="2026-01-01T00:00:00+08:00")
    assert refused(expired_key) == "该数据交换密钥已于2026-01-01 00:00过期，请重新领取"
    other = call(key, f"/api/v1/exchange/LZ-SC-0001?subject={ZHANG}")
    assert other.status_code == 403 and "LZ-SC-0001" in other.json()["detail"]
    item = call(key, f"/api/v1/exchange/LZ-GA-0001?subject={ZHANG}&items=name,ethnicity")
    assert item.status_code == 403 and "ethnicity" in item.json()["detail"]
    invalid = call(key, "/api/v1/exchange/LZ-GA-0001?subject=620102199001011234")
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["field"] == "subject"
    assert "公民身份号码" in invalid.json()["detail"][0]["message"]
    unknown = call(key, "/api/v1/exchange/LZ-GA-0001?subject=110101199003074477")
    assert unknown.status_code == 404
    assert ExchangeUse.objects.get().found is False  # answered: recorded too
    Grant.objects.filter(pk=grant.pk).update(revoked_at="2026-01-01T00:00:00+08:00")
    assert call(key, f"/api/v1/exchange/LZ-GA-0001?subject={ZHANG}").status_code == 403
    # Every refusal is in the audit chain: what was asked, why, never the ID number itself.
    refusals = list(AuditRecord.objects.filter(action="exchange.refused").order_by("seq"))
    assert [(r.object_id, r.detail["status"]) for r in refusals] == [
        ("LZ-SC-0001", 403), ("LZ-GA-0001", 403), ("LZ-GA-0001", 422), ("LZ-GA-0001", 403)]
    assert refusals[-1].detail["reason"] == "该共享授权已撤销"
    assert refusals[-1].detail["subject_index"] and ZHANG not in str(refusals[-1].detail)


def test_the_rate_per_grant(key: str, grant: Grant) -> None:
    statuses = [call(key, f"/api/v1/exchange/LZ-GA-0001?subject={ZHANG}").status_code
                for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert ExchangeUse.objects.count() == 5


@pytest.fixture
def audit_dirs(settings: Any, tmp_path: Path, db: None) -> None:
    """The audit tests' own setting: a data and key directory of this test (never the real
    ones); set before any record is written."""
    (tmp_path / "data").mkdir()
    settings.DATA_DIR = tmp_path / "data"
    settings.AUDIT_KEY_DIR = str(tmp_path / "keys")
    settings.AUDIT_HEAD_FILE = ""
    settings.AUDIT_SIGNING_KEY_FILE = ""
    settings.AUDIT_TRUSTED_PUBLIC_KEYS = []
    number_after_table()  # PostgreSQL: the chain of this test starts at #1 (see tests/audit)


def test_a_removed_exchange_audit_record_is_caught(audit_dirs: None, key: str,
                                                   grant: Grant) -> None:
    for _ in range(3):
        assert call(key, f"/api/v1/exchange/LZ-GA-0001?subject={ZHANG}").status_code == 200
    audit_seal()
    ok = io.StringIO()
    call_command("verify_audit", stdout=ok)
    seqs = sorted(s for s in ExchangeUse.objects.values_list("audit_seq", flat=True) if s)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditRecord._meta.db_table} WHERE seq = %s", [seqs[1]])
    with pytest.raises(CommandError):
        call_command("verify_audit", stdout=io.StringIO())


# --- the provider adapter (接口) -------------------------------------------------------------

class FakeProvider(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if "slow" in self.path:
            threading.Event().wait(1.0)
        if "broken" in self.path:
            self.send_response(500)
            self.end_headers()
            return
        if ZHANG not in self.path:
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps({"items": {"id_number": ZHANG, "name": "张明",
                                     "insurance_status": "正常参保"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def provider_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeProvider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def insurance(provider_url: str, market_data_officer: User,
              bureau_data_officer: User) -> Callable[[str], str]:
    """LZ-RS-0001 (接口), granted to 市场监管局 with a key; returns the key for an endpoint."""
    from tests.conftest import make_department
    from tests.factories import staff
    from tongban.demo.data_sharing import ensure_resource

    hr = make_department("兰州市人力资源和社会保障局", serial=93)
    resource = ensure_resource("LZ-RS-0001", hr)
    assert resource is not None and resource.current is not None
    assert resource.current.share_method == ShareMethod.INTERFACE
    officer, bureau = market_data_officer, bureau_data_officer
    demand = sharing.data_request_file(actor=officer, resource=resource,
                                       field_keys=["name", "insurance_status"],
                                       purpose="核验参保状态", legal_basis="《社会保险法》")
    sharing.data_request_check(actor=bureau, request=demand)
    sharing.data_request_answer(actor=staff("hr_data", Role.DATA_OFFICER, hr), request=demand,
                                approve=True)

    def key_for(path: str) -> str:
        ResourceVersion.objects.filter(resource=resource).update(endpoint_url=provider_url + path)
        grant = Grant.objects.get(request=demand)
        return sharing.credential_issue(actor=officer, grant=grant, days=1)[1]

    return key_for


def test_an_interface_resource_is_fetched_from_the_provider(
        insurance: Callable[[str], str], settings: Any) -> None:
    key = insurance("/insured")
    found = call(key, f"/api/v1/exchange/LZ-RS-0001?subject={ZHANG}")
    assert found.status_code == 200, found.content
    assert found.json()["items"] == {"name": "张明", "insurance_status": "正常参保"}
    assert call(key, "/api/v1/exchange/LZ-RS-0001?subject=110101199003074477").status_code == 404
    broken = call(insurance("/broken"), f"/api/v1/exchange/LZ-RS-0001?subject={ZHANG}")
    assert broken.status_code == 502 and "HTTP 500" in broken.json()["detail"]
    settings.EXCHANGE_ADAPTER_TIMEOUT = 0.2
    slow = call(insurance("/slow"), f"/api/v1/exchange/LZ-RS-0001?subject={ZHANG}")
    assert slow.status_code == 502 and "超时" in slow.json()["detail"]


# --- who used the data -----------------------------------------------------------------------

def test_the_provider_sees_the_use_and_the_citizen_their_own(
        key: str, grant: Grant, police_data_officer: User, market_data_officer: User,
        issue_token: Callable[[User], str]) -> None:
    handled_case(market_data_officer.department, "LZ2026120700001")  # type: ignore[arg-type]
    call(key, f"/api/v1/exchange/LZ-GA-0001?subject={ZHANG}&case=LZ2026120700001")
    call(key, "/api/v1/exchange/LZ-GA-0001?subject=620102198503150028")

    rows = selectors.usage(department=police_data_officer.department)  # type: ignore[arg-type]
    assert [(r["department"], r["resource"], r["calls"]) for r in rows] == [
        ("兰州市市场监督管理局", "LZ-GA-0001", 2)]
    client = Client()
    client.force_login(police_data_officer)
    assert client.get("/api/v1/data-usage").json()[0]["calls"] == 2
    assert client.get("/api/v1/data-usage?side=consumer").json() == []
    consumer = Client()
    consumer.force_login(market_data_officer)
    usage_page = consumer.get("/data/sharing/usage/").content.decode()
    assert "<td>姓名、公民身份号码、户籍地址</td>" in usage_page  # each call's items by name

    zhang = make_user("zhang", Role.CITIZEN, id_number=ZHANG)
    other = make_user("li", Role.CITIZEN, id_number="110101199003074477")
    mine = Client()
    mine.force_login(zhang)
    uses = mine.get("/api/v1/me/data-uses").json()
    assert len(uses) == 1
    assert uses[0]["department"] == "兰州市市场监督管理局"
    assert uses[0]["items"] == ["姓名", "公民身份号码", "户籍地址"]
    assert uses[0]["case_number"] == "LZ2026120700001"
    assert uses[0]["at"].endswith("+08:00")  # the API's times are Beijing time
    page = mine.get("/data/my-data-uses/")
    assert page.status_code == 200 and "兰州市市场监督管理局" in page.content.decode()
    theirs = Client()
    theirs.force_login(other)
    assert theirs.get("/api/v1/me/data-uses").json() == []
    assert "LZ2026120700001" not in theirs.get("/data/my-data-uses/").content.decode()
    staff_client = Client()
    staff_client.force_login(market_data_officer)
    assert staff_client.get("/api/v1/me/data-uses").status_code == 403


def test_the_census(key: str, grant: Grant, bureau_data_officer: User,
                    market_data_officer: User, company_resource: Resource) -> None:
    rows = {r.department: r for r in selectors.census()}
    police = rows["兰州市公安局"]
    assert (police.resources, police.elements, police.share_ratio) == (1, 6, 1.0)
    assert (police.served, police.refused, police.fresh) == (1, 0, 1)
    assert rows["兰州市市场监督管理局"].stale == 1  # never uploaded
    client = Client()
    client.force_login(bureau_data_officer)
    body = client.get("/api/v1/data-census").json()
    assert {r["department"] for r in body} == {"兰州市公安局", "兰州市市场监督管理局"}
    page = client.get("/data/census/")
    assert page.status_code == 200 and "兰州市公安局" in page.content.decode()
    client.force_login(market_data_officer)
    assert client.get("/api/v1/data-census").status_code == 403


def test_a_company_sees_the_reads_of_its_own_data(
        company_resource: Resource, police_data_officer: User, bureau_data_officer: User,
        market_data_officer: User) -> None:
    uscc = "91620102MA7123456T"
    sharing_records.records_import(
        actor=market_data_officer, resource=company_resource, file_name="c.csv",
        content=f"uscc,company_name\n{uscc},兰州示例餐饮有限公司\n".encode())
    demand = sharing.data_request_file(actor=police_data_officer, resource=company_resource,
                                       field_keys=["company_name"], purpose="核验企业名称",
                                       legal_basis="依据")
    sharing.data_request_check(actor=bureau_data_officer, request=demand)  # 无条件: granted
    key = sharing.credential_issue(actor=police_data_officer, grant=Grant.objects.get(),
                                   days=1)[1]
    handled_case(police_data_officer.department, "C1")  # type: ignore[arg-type]
    found = call(key, f"/api/v1/exchange/LZ-SC-0001?subject={uscc.lower()}&case=C1")
    assert found.status_code == 200 and found.json()["items"] == {"company_name": "兰州示例餐饮有限公司"}
    company = make_user("company", Role.ENTERPRISE, uscc=uscc)
    client = Client()
    client.force_login(company)
    uses = client.get("/api/v1/me/data-uses").json()
    assert [(u["department"], u["case_number"]) for u in uses] == [("兰州市公安局", "C1")]


def test_a_citizens_log_reads_in_the_same_statements_however_many_reads(
        key: str, grant: Grant) -> None:
    from django.test.utils import CaptureQueriesContext

    zhang = make_user("zhang", Role.CITIZEN, id_number=ZHANG)
    client = Client()
    client.force_login(zhang)

    def statements() -> int:
        with CaptureQueriesContext(connection) as page:
            assert client.get("/data/my-data-uses/").status_code == 200
        with CaptureQueriesContext(connection) as api:
            assert client.get("/api/v1/me/data-uses").status_code == 200
        return len(page) + len(api)

    call(key, f"/api/v1/exchange/LZ-GA-0001?subject={ZHANG}")
    one = statements()
    for _ in range(3):
        call(key, f"/api/v1/exchange/LZ-GA-0001?subject={ZHANG}")
    assert len(client.get("/api/v1/me/data-uses").json()) == 4
    assert statements() == one


def test_a_case_number_given_with_a_call_must_be_one_the_consumer_handles(
        key: str, grant: Grant, market_data_officer: User, police: Department) -> None:
    """The use is shown to the citizen against the case named: a number that names no case,
    or another department's case, is refused (and the refusal audited), nothing read."""
    unknown = call(key, f"/api/v1/exchange/LZ-GA-0001?subject={ZHANG}&case=LZ2099010100001")
    assert unknown.status_code == 422
    assert [(p["field"], p["message"]) for p in unknown.json()["detail"]] == [
        ("case", "办件编号LZ2099010100001不存在")]
    handled_case(police, "LZ2026120700002")
    theirs = call(key, f"/api/v1/exchange/LZ-GA-0001?subject={ZHANG}&case=LZ2026120700002")
    assert theirs.status_code == 422
    assert theirs.json()["detail"][0]["message"] == (
        "办件LZ2026120700002不由本部门办理，不能以该办件的名义查询")
    assert not ExchangeUse.objects.exists()
    assert AuditRecord.objects.filter(action="exchange.refused").count() == 2
    handled_case(market_data_officer.department, "LZ2026120700003",  # type: ignore[arg-type]
                 sequence=2)
    ours = call(key, f"/api/v1/exchange/LZ-GA-0001?subject={ZHANG}&case=LZ2026120700003")
    assert ours.status_code == 200 and ExchangeUse.objects.get().case_number == "LZ2026120700003"


def test_the_citizens_log_survives_a_new_index_key_and_the_old_one_removed(
        key: str, grant: Grant, settings: Any, tmp_path: Path) -> None:
    """The log keeps keyed hashes, not ID numbers: ``rotate_keys`` re-indexes each use from the
    values the platform holds (the citizen's account, the provider's records), so the page still
    lists the use once the old index key is gone."""
    import shutil

    path = tmp_path / "keys" / "personal-data.keys"
    path.parent.mkdir()
    shutil.copy(crypto.key_path(), path)
    settings.PERSONAL_DATA_KEY_FILE = str(path)
    zhang = make_user("zhang", Role.CITIZEN, id_number=ZHANG)
    assert call(key, f"/api/v1/exchange/LZ-GA-0001?subject={ZHANG}").status_code == 200
    mine = Client()
    mine.force_login(zhang)
    assert len(mine.get("/api/v1/me/data-uses").json()) == 1

    call_command("rotate_keys", "--new-index-key", stdout=io.StringIO())
    ring = crypto.keys()
    assert ExchangeUse.objects.get().subject_index == crypto.blind_index(ZHANG, ring)
    path.write_text("".join(f"{kind} {version} {k.hex()}\n" for kind, version, k in (
        ("data", ring.current_data_version, ring.data_key(ring.current_data_version)),
        ("index", ring.current_index_version, ring.index[0][1]))))
    assert [v for v, _k in crypto.keys(fresh=True).index] == [ring.current_index_version]
    assert len(mine.get("/api/v1/me/data-uses").json()) == 1
