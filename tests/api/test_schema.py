"""The OpenAPI document at /api/v1/schema/, the interactive docs at /api/v1/docs/, and
docs/api.md: the contract paths are all in the schema, and the doc and the schema list
the same operations."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.test import Client

from tests.api.helpers import assert_problem

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"

# Issue 6's contract: these operations must stay.
CONTRACT = {
    ("POST", "/api/v1/auth/otp/request"),
    ("POST", "/api/v1/auth/otp/verify"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/clinics"),
    ("GET", "/api/v1/doctors"),
    ("GET", "/api/v1/doctors/{id}"),
    ("GET", "/api/v1/doctors/{id}/availability"),
    ("POST", "/api/v1/appointments"),
    ("GET", "/api/v1/appointments"),
    ("GET", "/api/v1/appointments/{id}"),
    ("POST", "/api/v1/appointments/{id}/cancel"),
    ("POST", "/api/v1/appointments/{id}/reschedule"),
    ("GET", "/api/v1/appointments/{id}/history"),
    ("GET", "/api/v1/doctors/{id}/weekly-availability"),
    ("PUT", "/api/v1/doctors/{id}/weekly-availability"),
    ("GET", "/api/v1/doctors/{id}/time-off"),
    ("POST", "/api/v1/doctors/{id}/time-off"),
    ("DELETE", "/api/v1/time-off/{id}"),
    ("GET", "/api/v1/doctors/{id}/calendar"),
}
METHODS = ("get", "post", "put", "patch", "delete")
# The schema and its docs page are documented but, by design, not in the schema itself.
NOT_IN_SCHEMA = {("GET", "/api/v1/schema/"), ("GET", "/api/v1/docs/")}


def schema() -> dict[str, Any]:
    response = Client().get("/api/v1/schema/?format=json")
    assert response.status_code == 200, response.content
    document: dict[str, Any] = json.loads(response.content)
    return document


def schema_operations() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in schema()["paths"].items()
        for method in item
        if method in METHODS
    }


def documented_operations() -> set[tuple[str, str]]:
    """Each `METHOD /api/v1/...` opening a row of the endpoint table in docs/api.md's
    JSON API section; ``{pk}``-style parameters are read as ``{id}``, query strings
    are dropped."""
    text = DOC.read_text()
    section = text.split("## JSON API v1", 1)[1].split("\n## ", 1)[0]
    found = set()
    for line in section.splitlines():
        row = re.match(r"\|\s*`(GET|POST|PUT|PATCH|DELETE) (/api/v1/[^`?\s]*)[^`]*`", line)
        if row:
            path = re.sub(r"\{[^}]+\}", "{id}", row.group(2))
            found.add((row.group(1), path))
    return found - NOT_IN_SCHEMA


def test_the_schema_is_openapi_3_in_yaml_by_default():
    response = Client().get("/api/v1/schema/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    document = yaml.safe_load(response.content)
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Clinic appointments API"


@pytest.mark.parametrize(
    ("query", "accept"),
    [("?format=json", "*/*"), ("", "application/vnd.oai.openapi+json")],
)
def test_the_schema_is_json_when_asked_for(query, accept):
    response = Client().get(f"/api/v1/schema/{query}", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    assert json.loads(response.content)["openapi"].startswith("3.")


@pytest.mark.parametrize(
    ("request_headers", "query", "status", "code"),
    [
        ({"HTTP_AUTHORIZATION": "Bearer not-a-token"}, "", 401, "invalid_token"),
        ({}, "?format=xml", 404, "not_found"),
        ({"HTTP_ACCEPT": "text/html"}, "", 406, "not_acceptable"),
    ],
)
def test_errors_of_the_schema_endpoint_are_json_problems_not_yaml(
    request_headers, query, status, code
):
    response = Client().get(f"/api/v1/schema/{query}", **request_headers)

    assert_problem(response, status, code)


def test_the_schema_lists_every_contract_operation():
    assert CONTRACT - schema_operations() == set()


def test_the_schema_says_how_to_authenticate_and_which_operations_need_no_token():
    document = schema()

    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    paths = document["paths"]
    assert paths["/api/v1/auth/otp/request"]["post"]["security"] == [{}]
    assert {} in paths["/api/v1/doctors"]["get"]["security"]
    assert {} not in paths["/api/v1/appointments"]["get"]["security"]


def test_booking_declares_its_idempotency_key_and_its_problems():
    booking = schema()["paths"]["/api/v1/appointments"]["post"]

    key = next(p for p in booking["parameters"] if p["name"] == "Idempotency-Key")
    assert (key["in"], key["required"]) == ("header", True)
    for status in ("400", "401", "409", "422", "429"):
        content = booking["responses"][status]["content"]
        assert content == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
    assert "Retry-After" in booking["responses"]["409"]["headers"]


def test_a_profiles_date_of_birth_may_be_null_when_read_but_not_when_set():
    document = schema()
    me = document["paths"]["/api/v1/me"]
    components = document["components"]["schemas"]

    read = me["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    update = me["put"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]

    assert components[read.rsplit("/", 1)[1]]["properties"]["date_of_birth"]["nullable"] is True
    update_schema = components[update.rsplit("/", 1)[1]]
    assert "nullable" not in update_schema["properties"]["date_of_birth"]
    assert {"full_name", "phone", "date_of_birth"} <= set(update_schema["required"])


def test_wall_clock_times_are_described_as_the_hh_mm_strings_they_are():
    components = schema()["components"]["schemas"]

    for name, field in [("WeeklyInterval", "start"), ("TimeOffCreateRequest", "end_time")]:
        described = components[name]["properties"][field]
        assert "format" not in described  # OpenAPI's "time" would demand seconds
        assert re.fullmatch(described["pattern"], "09:30")
        assert not re.fullmatch(described["pattern"], "24:00")


def test_every_operation_in_docs_api_md_is_in_the_schema():
    documented = documented_operations()

    assert len(documented) >= len(CONTRACT)
    assert documented - schema_operations() == set()


def test_every_operation_in_the_schema_is_documented_in_docs_api_md():
    assert schema_operations() - documented_operations() == set()


def test_the_docs_page_is_swagger_ui_served_from_our_own_files_with_no_inline_code():
    response = Client().get("/api/v1/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    # Nothing inline for the Content-Security-Policy to refuse: the set-up script is a
    # file of its own (drf-spectacular's split view), the page's styles a stylesheet.
    assert "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    [setup_url] = [asset for asset in assets if asset.startswith("/api/v1/docs/?script")]
    files = [asset for asset in assets if asset != setup_url]
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in files)
    for asset in files:
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), asset
    assert not re.search(r"https?://", html)
    setup = Client().get(setup_url)
    assert setup.status_code == 200
    assert setup["Content-Type"].startswith("application/javascript")
    assert 'url: "/api/v1/schema/"' in setup.content.decode()
