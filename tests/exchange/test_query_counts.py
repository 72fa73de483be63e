"""Query counts of the data layer's list pages and API lists (see ``tests/query_budget.py``):
elements, resources (public, the department's own, the review queue, conflicts), demands,
grants, usage, the census and a citizen's data uses."""

from __future__ import annotations

import dataclasses
from itertools import count

import pytest

from tests.conftest import make_user
from tests.exchange.test_resources_services import population
from tests.query_budget import LARGE, SMALL, Budget, client_for
from tongban.accounts.models import Role, User
from tongban.core import crypto
from tongban.exchange.elements import ElementData
from tongban.exchange.models import Grant
from tongban.exchange.services import elements, sharing, sharing_records
from tongban.exchange.services.exchange_calls import exchange_read
from tongban.exchange.services.resources import (
    resource_save_draft,
    resource_version_review,
    resource_version_submit,
)
from tongban.organizations.models import Department

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("person_elements")]

CITIZEN_ID = "620102199001011233"


def test_data_layer_lists(budget: Budget, police: Department, police_data_officer: User,
                          market: Department, market_data_officer: User,
                          bureau_data_officer: User) -> None:
    serial = count(1)

    def add_rows(rows: int) -> None:
        """Per row: an element published and one drafted; a resource of 公安局 published with a
        record of the citizen, one of 市场监管局 under review; a demand of 市场监管局 granted,
        its key used once for the citizen; a demand waiting for the bureau."""
        for _ in range(rows):
            n = next(serial)
            for identifier, publish in ((f"DE9{n:04d}", True), (f"DE8{n:04d}", False)):
                elements.element_save(actor=bureau_data_officer, data=ElementData(
                    identifier=identifier, name=f"测试数据元{identifier}", definition="测试",
                    data_type="string", max_length=20))
                if publish:
                    elements.element_publish(actor=bureau_data_officer, identifier=identifier)
            code = f"LZ-GA-{100 + n:04d}"
            version = resource_save_draft(actor=police_data_officer, data=dataclasses.replace(
                population(police, code=code, name=f"人口信息{n}")))
            resource_version_submit(actor=police_data_officer, version=version)
            resource_version_review(actor=bureau_data_officer, version=version, approve=True)
            resource = version.resource
            sharing_records.records_import(
                actor=police_data_officer, resource=resource, file_name="p.csv",
                content=f"id_number,name,address\n{CITIZEN_ID},张明,兰州市城关区皋兰路1号\n".encode())
            theirs = resource_save_draft(actor=market_data_officer, data=population(
                market, code=f"LZ-SC-{100 + n:04d}", name=f"经营者信息{n}",
                items=[dataclasses.replace(i, is_source=False)
                       for i in population(market).items]))
            resource_version_submit(actor=market_data_officer, version=theirs)
            demand = sharing.data_request_file(
                actor=market_data_officer, resource=resource, field_keys=["name", "address"],
                purpose="核验申请人", legal_basis="依据")
            sharing.data_request_check(actor=bureau_data_officer, request=demand)
            sharing.data_request_answer(actor=police_data_officer, request=demand, approve=True,
                                        masked_keys=["address"])
            credential, _key = sharing.credential_issue(
                actor=market_data_officer, grant=Grant.objects.get(request=demand), days=1)
            assert exchange_read(credential=credential, resource_code=code,
                                 subject=CITIZEN_ID).status == 200
            sharing.data_request_file(actor=market_data_officer, resource=resource,
                                      field_keys=["name"], purpose="另一用途", legal_basis="依据")

    add_rows(SMALL)
    citizen = make_user("zhang", Role.CITIZEN, id_number=CITIZEN_ID)
    assert crypto.blind_index(CITIZEN_ID)
    anonymous = client_for(None)
    bureau, police_client = client_for(bureau_data_officer), client_for(police_data_officer)
    market_client, own = client_for(market_data_officer), client_for(citizen)
    budget.add("page /data/elements/", anonymous, "/data/elements/")
    budget.add("page /data/elements/manage/", bureau, "/data/elements/manage/")
    budget.add("page /data/code-lists/", anonymous, "/data/code-lists/")
    budget.add("page /data/resources/", anonymous, "/data/resources/")
    budget.add("page /data/resources/mine/", police_client, "/data/resources/mine/")
    budget.add("page /data/resources/review/", bureau, "/data/resources/review/")
    budget.add("page /data/resources/conflicts/", bureau, "/data/resources/conflicts/")
    budget.add("page /data/sharing/ (bureau)", bureau, "/data/sharing/")
    budget.add("page /data/sharing/ (consumer)", market_client, "/data/sharing/")
    budget.add("page /data/sharing/usage/", police_client, "/data/sharing/usage/")
    budget.add("page /data/census/", bureau, "/data/census/")
    budget.add("page /data/my-data-uses/", own, "/data/my-data-uses/")
    budget.add("api /data-elements", anonymous, "/api/v1/data-elements")
    budget.add("api /code-lists", anonymous, "/api/v1/code-lists")
    budget.add("api /data-resources", anonymous, "/api/v1/data-resources")
    budget.add("api /data-resources/review-queue", bureau, "/api/v1/data-resources/review-queue")
    budget.add("api /data-requests", bureau, "/api/v1/data-requests")
    budget.add("api /data-grants", market_client, "/api/v1/data-grants")
    budget.add("api /data-usage", police_client, "/api/v1/data-usage")
    budget.add("api /data-census", bureau, "/api/v1/data-census")
    budget.add("api /me/data-uses", own, "/api/v1/me/data-uses")
    budget.check(lambda: add_rows(LARGE - SMALL))
