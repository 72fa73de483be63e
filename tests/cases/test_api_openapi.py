"""The OpenAPI document lists every case, inbox and workflow operation with its request and
response schemas, so that clients can be generated from it."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from ninja import Schema

P = "/api/v1"
C = P + "/cases/{number_or_id}"
# (method, path) → (request body schema or None, success status, success schema)
OPERATIONS: dict[tuple[str, str], tuple[str | None, str, str]] = {
    ("get", P + "/cases"): (None, "200", "CasePageOut"),
    ("post", P + "/cases"): ("CaseCreateIn", "201", "CaseOut"),
    ("get", C): (None, "200", "CaseOut"),
    ("post", C + "/materials"): ("multipart", "201", "CaseOut"),
    ("get", C + "/materials/{record_id}/file"): (None, "200", "binary"),
    ("post", C + "/materials/promise"): ("PromiseIn", "200", "CaseOut"),
    ("post", C + "/submit"): ("VersionIn", "200", "CaseOut"),
    ("post", C + "/pre-review"): ("VersionIn", "200", "CaseOut"),
    ("post", C + "/supplement"): ("SupplementIn", "200", "CaseOut"),
    ("post", C + "/supply"): ("VersionIn", "200", "CaseOut"),
    ("post", C + "/accept"): ("AcceptIn", "200", "CaseOut"),
    ("post", C + "/refuse"): ("RefuseIn", "200", "CaseOut"),
    ("post", C + "/halt"): ("HaltIn", "200", "CaseOut"),
    ("post", C + "/resume"): ("VersionIn", "200", "CaseOut"),
    ("post", C + "/deliver"): ("DeliverIn", "200", "CaseOut"),
    ("post", C + "/withdraw"): ("OptionalReasonIn", "200", "CaseOut"),
    ("post", C + "/terminate"): ("ReasonIn", "200", "CaseOut"),
    ("post", C + "/visits"): ("VisitIn", "201", "CaseOut"),
    ("post", P + "/tasks/{task_id}/act"): ("StepActIn", "200", "CaseOut"),
    ("post", P + "/tasks/{task_id}/suspend"): ("SuspendIn", "200", "CaseOut"),
    ("post", P + "/tasks/{task_id}/extension"): ("ExtensionIn", "200", "CaseOut"),
    ("post", P + "/extensions/{extension_id}/decide"): ("ExtensionDecideIn", "200", "CaseOut"),
    ("get", P + "/inbox"): (None, "200", "InboxOut"),
    ("post", P + "/tasks/{task_id}/claim"): (None, "200", "TaskOut"),
    ("post", P + "/tasks/{task_id}/assign"): ("AssignIn", "200", "TaskOut"),
    ("get", P + "/workflows"): (None, "200", "WorkflowOut[]"),
    ("post", P + "/workflows"): ("WorkflowIn", "201", "WorkflowOut"),
    ("get", P + "/workflows/{workflow_id}"): (None, "200", "WorkflowOut"),
}


@pytest.fixture
def document(client: Client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    data: dict[str, Any] = json.loads(response.content)
    return data


def ref_name(schema: dict[str, Any]) -> str:
    """The component a schema refers to (``anyOf [ref, null]`` for an optional body)."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        names = [ref_name(s) for s in schema["anyOf"] if s.get("type") != "null"]
        assert len(names) == 1, schema
        return names[0]
    if schema.get("type") == "array":
        return ref_name(schema["items"]) + "[]"
    raise AssertionError(f"not a reference: {schema}")


@pytest.mark.django_db
def test_every_operation_is_documented_with_its_schemas(document: dict[str, Any]) -> None:
    paths, components = document["paths"], document["components"]["schemas"]
    for (method, path), (request, status, response) in OPERATIONS.items():
        operation = paths.get(path, {}).get(method)
        assert operation is not None, f"{method.upper()} {path} is not documented"
        where = f"{method.upper()} {path}"
        assert operation["summary"], where
        # Not public: the bearer token (or the session) is required.
        assert operation["security"] == [{"BearerAuth": []}, {"SessionAuth": []}], where
        if request is None:
            assert "requestBody" not in operation, where
        elif request == "multipart":
            form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
            assert set(form["properties"]) == {"file", "material", "name", "expected_version"}
            assert form["properties"]["file"] == {"format": "binary", "title": "File",
                                                  "type": "string"}
            assert form["required"] == ["file"]
        else:
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            assert ref_name(body) == request, where
            assert request in components, where
        content = operation["responses"][status]["content"]
        if response == "binary":
            assert content["application/octet-stream"]["schema"]["format"] == "binary"
        else:
            assert ref_name(content["application/json"]["schema"]) == response, where
            assert response.removesuffix("[]") in components, where
        if method == "post" and path.startswith((C, P + "/tasks", P + "/extensions")):
            documented = set(operation["responses"])
            assert {"403", "404", "422"} <= documented, where
            if response == "CaseOut":
                assert "409" in documented, where


@pytest.mark.django_db
def test_the_documented_schemas_carry_what_clients_need(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]

    def required(name: str) -> set[str]:
        return set(schemas[name]["required"])

    assert {"id", "number", "version", "status", "due_at", "provisional", "deadline_state",
            "item", "applicant", "agent", "form_data", "checklist", "materials", "notices",
            "history", "tasks", "extensions", "visits", "clock_stops"} <= required("CaseOut")
    assert {"seq", "at", "actor", "action", "from_status", "to_status", "reason"} <= \
        required("EventOut")
    assert {"name", "state", "size", "sha256", "download_url"} <= required("CaseMaterialOut")
    assert {"id", "case_id", "case_version", "step_key", "due_at", "assignee",
            "actions"} <= required("TaskOut")
    for name in ("VersionIn", "SupplementIn", "ReasonIn", "StepActIn", "ExtensionDecideIn"):
        assert "expected_version" in schemas[name]["properties"], name
    assert {"field", "message"} <= set(schemas["ProblemOut"]["properties"])
    post_cases = document["paths"]["/api/v1/cases"]["post"]
    assert [(p["in"], p["name"]) for p in post_cases["parameters"]] == [
        ("header", "Idempotency-Key")]
    list_cases = document["paths"]["/api/v1/cases"]["get"]
    assert {p["name"] for p in list_cases["parameters"]} == {
        "status", "item", "deadline_state", "due_before", "page", "page_size", "cursor"}


def schema_classes() -> Iterator[type[Schema]]:
    def walk(cls: type[Schema]) -> Iterator[type[Schema]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)

    import tongban.urls  # noqa: F401  (loads every router, and so every schema)

    for cls in walk(Schema):
        if cls.__module__.startswith("tongban."):
            yield cls


def test_schema_names_are_unambiguous() -> None:
    """OpenAPI components are named after the class: two different schemas with one name would
    silently document one of them with the other's fields."""
    by_name: dict[str, dict[str, Any]] = defaultdict(dict)
    for cls in schema_classes():
        by_name[cls.__name__][cls.__module__] = cls.model_json_schema()
    clashes = {name: sorted(found) for name, found in by_name.items()
               if len({json.dumps(s, sort_keys=True) for s in found.values()}) > 1}
    assert clashes == {}
