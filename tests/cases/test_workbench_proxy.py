"""Proxy agents (代办员) of a street/town centre: receiving a resident's 代办服务 application
(``cases:proxy_receive``) and forwarding it (``cases:proxy``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.cases.conftest import PROXY, item, named_pdf
from tests.cases.test_workbench_inbox import accepted_case, client_for, open_task
from tongban.accounts.models import User
from tongban.cases.models import Case, CaseMaterial, Status
from tongban.cases.workflows.models import StepTask

pytestmark = pytest.mark.django_db

RESIDENT = {"applicant_name": "王五", "applicant_id_number": "620102199003070018",
            "applicant_phone": "13893100009"}


def receive(client: Client, **override: Any) -> Any:
    version = item(PROXY).current
    assert version is not None
    body: dict[str, Any] = {"item": PROXY, "key": "k-1", **RESIDENT,
                            "form.contact_phone": "13893100009", "form.purpose": "参保登记"}
    for m in version.materials.all():
        body[f"material.{m.pk}"] = named_pdf(m.name)
    body.update(override)
    return client.post(reverse("cases:proxy_receive"), body)


def test_agent_receives_a_walk_in_and_forwards_it_to_the_city_department(
        people: dict[str, User]) -> None:
    proxy = client_for(people["proxy"])
    chooser = proxy.get(reverse("cases:proxy_receive")).content.decode()
    assert "城乡居民基本养老保险参保登记" in chooser
    form = proxy.get(reverse("cases:proxy_receive"), {"item": PROXY}).content.decode()
    assert "申请人公民身份号码" in form and "联系电话" in form

    response = receive(proxy)
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:staff_case", args=[case.number])
    assert case.status == Status.ACCEPTED and case.channel == "window"
    assert case.applicant_name == "王五" and case.hall == people["proxy"].hall
    assert case.materials.filter(state=CaseMaterial.State.SUPPLIED).count() == \
        case.item_version.materials.count()
    assert case.visits == 1
    forward = open_task(case)
    assert (forward.step_key, forward.role) == ("forward", "proxy_agent")

    # A repeated submission of the same form (same key) does not make a second case.
    receive(proxy)
    assert Case.objects.count() == 1

    desk = proxy.get(reverse("cases:proxy")).content.decode()
    assert case.number is not None
    assert case.number in desk and "转交主管部门" in desk
    case.refresh_from_db()
    proxy.post(reverse("cases:staff_case_act", args=[case.number]),
               {"op": "forward", "task": forward.pk, "version": case.version,
                "next": reverse("cases:proxy")})
    forward.refresh_from_db()
    assert forward.status == "done" and not forward.late
    review = open_task(case)
    assert review.department.name == "兰州市人力资源和社会保障局"
    assert "已转交" in proxy.get(reverse("cases:proxy")).content.decode()

    hr = client_for(people["hr_officer"])
    assert case.number in hr.get(reverse("cases:workbench"), {"tab": "unclaimed"}).content.decode()


def test_bad_input_names_the_field_and_saves_nothing(people: dict[str, User]) -> None:
    proxy = client_for(people["proxy"])
    response = receive(proxy, applicant_id_number="620102199003070019",
                       **{"form.contact_phone": "12345"})
    text = response.content.decode()
    assert response.status_code == 422
    assert "公民身份号码末位校验码与前17位不符，请核对号码" in text and "尚未保存任何内容" in text
    assert not Case.objects.exists() and not CaseMaterial.objects.exists()

    version = item(PROXY).current
    assert version is not None
    first = version.materials.first()
    assert first is not None
    incomplete = receive(proxy, **{f"material.{first.pk}": ""})
    assert incomplete.status_code == 422
    assert "材料不齐全" in incomplete.content.decode()
    assert not Case.objects.exists()


def test_a_late_forwarding_is_marked(people: dict[str, User]) -> None:
    case = accepted_case(people, PROXY)
    forward = open_task(case)
    StepTask.objects.filter(pk=forward.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    proxy = client_for(people["proxy"])
    assert "红·超期" in proxy.get(reverse("cases:proxy")).content.decode()
    case.refresh_from_db()
    proxy.post(reverse("cases:staff_case_act", args=[case.number]),
               {"op": "forward", "task": forward.pk, "version": case.version})
    forward.refresh_from_db()
    assert forward.late
    assert "超时转交" in proxy.get(reverse("cases:proxy")).content.decode()


def test_only_proxy_agents_use_the_desk(people: dict[str, User]) -> None:
    for name in ("officer", "clerk", "citizen"):
        assert client_for(people[name]).get(reverse("cases:proxy")).status_code == 403
        assert client_for(people[name]).post(reverse("cases:proxy_receive")).status_code == 403
    assert not Case.objects.exists()
