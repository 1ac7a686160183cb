"""JSON API v1: public reads, staff writes, problem details, and the OpenAPI document."""

import re

import pytest
from openapi_spec_validator import validate
from sqlalchemy import func, select

from campaigns.models import Campaign
from legami.extensions import db
from legami.models import ApiToken
from tests import factories


@pytest.fixture
def staff_token():
    _, token = ApiToken.issue(factories.user(roles=("staff",)))
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_campaigns_are_paginated_and_only_public(client):
    org = factories.organisation()
    for n in range(5):
        factories.campaign(organisation=org, slug=f"c{n}", raised_cents=100 * n)
    factories.campaign(organisation=org, slug="bozza", status="draft")
    first = client.get("/api/v1/campaigns?per_page=2").json
    assert (first["total"], first["pages"], first["page"], first["per_page"]) == (5, 3, 1, 2)
    assert len(first["items"]) == 2
    last = client.get("/api/v1/campaigns?per_page=2&page=3").json
    assert len(last["items"]) == 1
    slugs = {
        i["slug"]
        for p in (1, 2, 3)
        for i in client.get(f"/api/v1/campaigns?per_page=2&page={p}").json["items"]
    }
    assert slugs == {f"c{n}" for n in range(5)}
    beyond = client.get("/api/v1/campaigns?per_page=2&page=9").json
    assert beyond["items"] == []
    largest = client.get("/api/v1/campaigns?per_page=100").json
    assert largest["per_page"] == 100
    over = client.get("/api/v1/campaigns?per_page=101")
    assert over.status_code == 422 and over.json["errors"][0]["field"] == "per_page"


def test_bad_paging_is_a_problem(client):
    response = client.get("/api/v1/campaigns?page=zero&lang=en")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 422
    assert response.json["errors"] == [
        {"field": "page", "message": "page must be a whole number from 1 to 1000000."}
    ]


def test_campaign_detail_and_404(client):
    pact = factories.pact(slug="tetto")
    campaign = factories.campaign(
        slug="orto",
        goal_cents=1_200_000,
        raised_cents=743_550,
        gift_count=3,
        pacts=[pact],
        story="**ciao**",
    )
    data = client.get("/api/v1/campaigns/orto").json
    assert data["goal_cents"] == 1_200_000 and data["raised_cents"] == 743_550
    assert data["gift_count"] == 3
    assert data["pacts"][0]["slug"] == "tetto"
    assert data["pacts"][0]["url"].endswith("/patti/tetto")
    assert data["story"] == "**ciao**"
    assert data["organisation"]["slug"] == campaign.organisation.slug
    for missing in ("/api/v1/campaigns/nessuna", "/api/v1/nothing-here"):
        response = client.get(missing)
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
        assert response.json["status"] == 404 and response.json["title"] == "Not Found"
    factories.campaign(slug="bozza", status="draft")
    assert client.get("/api/v1/campaigns/bozza").status_code == 404


def test_pacts_and_labs_lists(client):
    factories.pact(slug="a")
    factories.lab(slug="b")
    assert [p["slug"] for p in client.get("/api/v1/pacts").json["items"]] == ["a"]
    lab = client.get("/api/v1/labs").json["items"][0]
    assert lab["slug"] == "b" and lab["place_kind"] == "neighbourhood"


def test_staff_creates_updates_and_publishes_a_campaign(client, staff_token):
    org = factories.organisation(slug="csv")
    factories.pact(slug="tetto")
    body = {
        "title": "Casa e orto",
        "organisation": "csv",
        "summary": "Riassunto",
        "goal_cents": 500_000,
        "starts_on": "2026-11-01",
        "ends_on": "2026-12-31",
        "pacts": ["tetto"],
    }
    created = client.post("/api/v1/campaigns", json=body, headers=staff_token)
    assert created.status_code == 201
    assert created.headers["Location"].endswith("/api/v1/campaigns/casa-e-orto")
    assert created.json["status"] == "draft"
    row = db.session.scalar(select(Campaign))
    assert (row.organisation_id, row.goal_cents, [p.slug for p in row.pacts]) == (
        org.id,
        500_000,
        ["tetto"],
    )

    patched = client.patch(
        "/api/v1/campaigns/casa-e-orto", json={"goal_cents": 600_000}, headers=staff_token
    )
    assert patched.status_code == 200 and patched.json["goal_cents"] == 600_000
    assert patched.json["pacts"][0]["slug"] == "tetto"

    published = client.post("/api/v1/campaigns/casa-e-orto/publish", headers=staff_token)
    assert published.json["status"] == "live"
    again = client.post("/api/v1/campaigns/casa-e-orto/publish", headers=staff_token)
    assert again.status_code == 409
    assert again.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"title", "summary", "organisation", "goal_cents", "starts_on", "ends_on"}),
        ({"goal_cents": -5}, {"goal_cents"}),
        ({"goal_cents": 10.5}, {"goal_cents"}),
        ({"ends_on": "2026-10-01"}, {"ends_on"}),
        ({"starts_on": "yesterday"}, {"starts_on"}),
        ({"pacts": ["nessuno"]}, {"pacts"}),
        ({"organisation": "nessuna"}, {"organisation"}),
        ({"slug": "Bad Slug"}, {"slug"}),
    ],
)
def test_invalid_writes_are_422_problems_and_store_nothing(client, staff_token, body, fields):
    factories.organisation(slug="csv")
    valid = {
        "title": "T",
        "organisation": "csv",
        "summary": "S",
        "goal_cents": 100,
        "starts_on": "2026-11-01",
        "ends_on": "2026-12-31",
    }
    payload = body if body == {} else {**valid, **body}
    response = client.post("/api/v1/campaigns", json=payload, headers=staff_token)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert {e["field"] for e in response.json["errors"]} == fields
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_a_body_that_is_not_json_is_a_400_problem(client, staff_token):
    response = client.post(
        "/api/v1/campaigns", data="not json", headers=staff_token, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_openapi_document_is_valid_and_complete(app, client):
    spec = client.get("/api/v1/openapi.json").json
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    documented = {
        (path, method.upper())
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "patch", "put", "delete"}
    }
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule[len("/api/v1") :])
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                served.add((path, method))
    assert served == documented
