"""The public page, the staff pages and the API of 双随机一公开."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tongban.accounts.models import User
from tongban.inspections import services
from tongban.inspections.models import (
    DrawnEntity,
    DrawTask,
    InspectionItem,
    MarketEntity,
    ResultKind,
    TaskStatus,
)

from .conftest import build_workbook, entity_rows


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def published(make_task: Callable[..., DrawTask], people: dict[str, User]) -> DrawTask:
    task = services.task_draw(actor=people["officer"], task=make_task(name="2025年餐饮服务抽查", count=4,
                                                                         seed="c0ffee"))
    task = services.task_publish(actor=people["head"], task=task)
    own = DrawnEntity.objects.filter(task=task, inspectors__inspector__user=people["officer"]).first()
    assert own is not None
    services.result_record(actor=people["officer"], drawn=own, result=ResultKind.RECTIFICATION,
                           findings="未公示食品经营许可证，已责令整改", inspected_on=timezone.localdate())
    return task


# --- public ----------------------------------------------------------------------------------

def test_the_public_page_lists_published_tasks_only(published: DrawTask,
                                                    make_task: Callable[..., DrawTask]) -> None:
    make_task(name="尚未抽取的任务")
    page = client_for(None).get("/inspections/").content.decode()
    assert "2025年餐饮服务抽查" in page
    assert "尚未抽取的任务" not in page
    assert "1 / 4" in page  # results published so far


def test_the_public_task_page_shows_results_inspectors_and_verification_data(
        published: DrawTask, people: dict[str, User]) -> None:
    response = client_for(None).get(f"/inspections/{published.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    for d in published.drawn.all():
        assert d.name in page and d.uscc in page
        for i in d.inspectors.all():
            assert f"{i.name}（{i.certificate_number}）" in page
    assert "发现问题已责令整改" in page and "未公示食品经营许可证，已责令整改" in page
    assert "待录入" in page
    assert published.seed in page
    assert published.entity_pool_hash in page and published.inspector_pool_hash in page
    assert "如何复核" in page and "random.Random(int(种子, 16))" in page
    # No personal data of inspectors beyond name and certificate number; no conflict reasons.
    assert "近亲属任法定代表人" not in page
    assert "officer" not in page


def test_unpublished_tasks_are_not_public(make_task: Callable[..., DrawTask],
                                          people: dict[str, User]) -> None:
    task = services.task_draw(actor=people["officer"], task=make_task())
    client = client_for(None)
    for url in (f"/inspections/{task.pk}/", f"/inspections/{task.pk}/verify/",
                f"/inspections/{task.pk}/pools.json", f"/api/v1/inspections/tasks/{task.pk}"):
        assert client.get(url).status_code == 404, url


def test_the_verify_page_and_the_snapshot(published: DrawTask) -> None:
    client = client_for(None)
    page = client.get(f"/inspections/{published.pk}/verify/").content.decode()
    assert "复核结论：一致" in page
    assert "当前名录按同一筛选条件得到的两个库与抽取时的快照相同" in page
    doc = json.loads(client.get(f"/inspections/{published.pk}/pools.json").content)
    assert doc["seed"] == "c0ffee"
    assert doc["entity_pool"] == published.entity_pool
    assert doc["inspector_pool_hash"] == published.inspector_pool_hash
    assert [d["uscc"] for d in doc["drawn"]] == [d.uscc for d in published.drawn.order_by("position")]
    DrawTask.objects.filter(pk=published.pk).update(seed="c0ffef")
    assert "复核结论：不一致" in client.get(f"/inspections/{published.pk}/verify/").content.decode()


# --- staff -----------------------------------------------------------------------------------

def test_staff_pages_are_for_staff(published: DrawTask, people: dict[str, User]) -> None:
    assert client_for(None).get("/inspections/staff/").status_code == 302
    assert client_for(people["citizen"]).get("/inspections/staff/").status_code == 403
    url = f"/inspections/staff/tasks/{published.pk}/"
    assert client_for(people["district_officer"]).get(url).status_code == 404
    assert "2025年餐饮服务抽查" not in client_for(people["district_officer"]).get(
        "/inspections/staff/").content.decode()
    for who in ("supervisor", "admin", "officer2"):
        assert client_for(people[who]).get(url).status_code == 200


def test_an_officer_creates_and_draws_and_the_head_publishes(directory: dict[str, Any],
                                                             people: dict[str, User]) -> None:
    officer = client_for(people["officer"])
    item = InspectionItem.objects.get(code="SJ-002")
    response = officer.post("/inspections/staff/tasks/new/", {
        "name": "药品零售抽查", "items": [item.pk], "industries": ["药品零售"], "ratio_percent": "",
        "count": "", "inspectors_per_entity": "2", "seed": ""})
    assert response.status_code == 422
    assert "抽查比例和抽查户数须填写且只填写其中一项" in response.content.decode()
    assert not DrawTask.objects.exists()
    response = officer.post("/inspections/staff/tasks/new/", {
        "name": "药品零售抽查", "items": [item.pk], "industries": ["药品零售"], "ratio_percent": "50",
        "inspectors_per_entity": "2"})
    task = DrawTask.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/inspections/staff/tasks/{task.pk}/"
    page = officer.get(response["Location"]).content.decode()
    assert "当前名录中符合条件的市场主体 10 户，本部门在岗检查人员 6 名；将抽取 5 户。" in page
    officer.post(f"/inspections/staff/tasks/{task.pk}/action/", {"action": "draw"})
    task.refresh_from_db()
    assert task.status == TaskStatus.DRAWN and task.drawn.count() == 5
    # The officer may not publish; the page does not offer it and a forged post is refused.
    action = f"/inspections/staff/tasks/{task.pk}/action/"
    assert officer.post(action, {"action": "publish"}).status_code == 403
    task.refresh_from_db()
    assert task.status == TaskStatus.DRAWN
    client_for(people["head"]).post(f"/inspections/staff/tasks/{task.pk}/action/", {"action": "publish"})
    task.refresh_from_db()
    assert task.status == TaskStatus.PUBLISHED


def test_results_are_entered_by_the_drawn_inspectors(published: DrawTask, people: dict[str, User]) -> None:
    # The entity the officer already recorded (a correction is allowed until the task is complete).
    target = DrawnEntity.objects.get(task=published, inspectors__inspector__user=people["officer"],
                                     result=ResultKind.RECTIFICATION)
    url = f"/inspections/staff/tasks/{published.pk}/entities/{target.pk}/result/"
    today = str(timezone.localdate())
    foreign = DrawnEntity.objects.filter(task=published).exclude(
        inspectors__inspector__user=people["officer"]).first()
    assert foreign is not None
    foreign_url = f"/inspections/staff/tasks/{published.pk}/entities/{foreign.pk}/result/"
    officer = client_for(people["officer"])
    assert officer.get(foreign_url).status_code == 403
    assert officer.post(foreign_url, {"result": "no_problem", "inspected_on": today}).status_code == 403
    foreign.refresh_from_db()
    assert foreign.result == ""
    assert "未公示食品经营许可证" in officer.get(url).content.decode()
    response = officer.post(url, {"result": "follow_up", "findings": "", "inspected_on": today})
    assert response.status_code == 422
    assert "检查结果不是“未发现问题”时须填写检查情况" in response.content.decode()
    response = officer.post(url, {"result": "no_problem", "findings": "", "inspected_on": today})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.result == ResultKind.NO_PROBLEM


def test_importing_through_the_page(people: dict[str, User]) -> None:
    client = client_for(people["officer"])
    rows = entity_rows(2)
    rows[1][3] = ""
    upload = build_workbook({"市场主体": rows})
    upload.name = "bad.xlsx"
    response = client.post("/inspections/staff/import/", {"file": upload})
    page = response.content.decode()
    assert response.status_code == 422
    assert "整个文件未导入" in page
    assert "<td>市场主体</td><td>3</td><td>行业</td><td>行业不能为空</td>" in page
    assert MarketEntity.objects.count() == 0
    upload = build_workbook({"市场主体": entity_rows(2)})
    upload.name = "good.xlsx"
    page = client.post("/inspections/staff/import/", {"file": upload}).content.decode()
    assert "市场主体：新增 2，更新 0，未变 0" in page
    assert MarketEntity.objects.count() == 2
    assert client.get("/inspections/staff/template.xlsx").status_code == 200
    assert client_for(people["supervisor"]).post("/inspections/staff/import/", {}).status_code == 403


# --- API -------------------------------------------------------------------------------------

def test_the_public_api(published: DrawTask) -> None:
    client = client_for(None)
    listing = client.get("/api/v1/inspections/tasks").json()
    assert [(t["name"], t["drawn_count"], t["recorded_count"]) for t in listing] == [
        ("2025年餐饮服务抽查", 4, 1)]
    task = client.get(f"/api/v1/inspections/tasks/{published.pk}").json()
    assert task["seed"] == "c0ffee" and len(task["drawn"]) == 4
    assert {"name", "certificate_number"} == set(task["drawn"][0]["inspectors"][0])
    report = client.get(f"/api/v1/inspections/tasks/{published.pk}/verify").json()
    assert report["ok"] is True and all(c["ok"] for c in report["checks"])


def test_the_staff_api(directory: dict[str, Any], people: dict[str, User],
                       issue_token: Callable[[User], str]) -> None:
    def call(user: User, path: str, body: dict[str, Any] | None = None) -> Any:
        return Client().post(path, json.dumps(body or {}), content_type="application/json",
                             headers={"Authorization": f"Bearer {issue_token(user)}"})

    response = call(people["officer"], "/api/v1/inspections/staff/tasks",
                    {"name": "接口任务", "items": ["SJ-001"], "count": 2, "seed": "ab"})
    assert response.status_code == 201, response.content
    task_id = response.json()["id"]
    assert call(people["citizen"], "/api/v1/inspections/staff/tasks",
                {"name": "x", "items": ["SJ-001"], "count": 2}).status_code == 403
    bad = call(people["officer"], "/api/v1/inspections/staff/tasks", {"name": "x", "items": ["SJ-001"]})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["message"] == "抽查比例和抽查户数须填写且只填写其中一项"
    drawn = call(people["officer"], f"/api/v1/inspections/staff/tasks/{task_id}/draw").json()
    assert drawn["status"] == "drawn" and len(drawn["drawn"]) == 2
    assert call(people["officer"], f"/api/v1/inspections/staff/tasks/{task_id}/publish").status_code == 403
    published = call(people["head"], f"/api/v1/inspections/staff/tasks/{task_id}/publish").json()
    assert published["status"] == "published"
