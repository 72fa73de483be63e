"""The health check and the OpenAPI document that clients and checks rely on."""

from __future__ import annotations

import json

import pytest
from django.test import Client


@pytest.mark.django_db
def test_healthz_reports_database_ok(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_openapi_is_valid_json_listing_the_endpoints(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "tongban API"
    paths = document["paths"]
    assert {"/api/v1/auth/token", "/api/v1/auth/me", "/api/v1/divisions", "/api/v1/departments",
            "/api/v1/departments/{department_id}", "/api/v1/halls",
            "/api/v1/halls/{hall_id}"} <= set(paths)
    assert set(paths["/api/v1/auth/token"]) == {"post"}
    # The bearer scheme is documented for clients.
    schemes = document["components"]["securitySchemes"]
    assert schemes["BearerAuth"] == {"type": "http", "scheme": "bearer"}
    # Public reads say so: no security requirement on them.
    assert "security" not in paths["/api/v1/halls"]["get"]
    assert paths["/api/v1/auth/me"]["get"]["security"] == [{"BearerAuth": []}, {"SessionAuth": []}]
