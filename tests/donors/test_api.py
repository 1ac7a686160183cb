"""JSON API v1 for donors and segments: staff tokens, pages, creation, RFC 9457 problems."""

import pytest
from openapi_spec_validator import validate
from sqlalchemy import func, select

from donors import segments
from donors.models import Donor, DonorSource, Segment, Tag
from legami.extensions import db
from legami.models import ApiToken
from tests import factories


def bearer(*roles) -> dict:
    _, token = ApiToken.issue(factories.user(roles=roles))
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def staff_token(app):
    return bearer("staff")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_donors_are_listed_by_name_in_pages_and_searched(client, staff_token):
    tag = Tag(name="volontari")
    db.session.add(tag)
    db.session.commit()
    for name in ("Verdi", "Bianchi", "Rossi"):
        factories.donor(last_name=name, tags=[tag])
    factories.donor(first_name="Nicolò", last_name="Foà", email="nicolo@example.org")
    first = client.get("/api/v1/donors?per_page=2", headers=staff_token)
    assert first.status_code == 200
    assert (first.json["total"], first.json["pages"], first.json["page"]) == (4, 2, 1)
    # By name as written, first name first: Maria Bianchi, Maria Rossi, Maria Verdi, Nicolò Foà.
    assert [d["last_name"] for d in first.json["items"]] == ["Bianchi", "Rossi"]
    assert first.json["items"][1]["tags"] == ["volontari"]
    second = client.get("/api/v1/donors?per_page=2&page=2", headers=staff_token)
    assert [d["last_name"] for d in second.json["items"]] == ["Verdi", "Foà"]
    found = client.get("/api/v1/donors?q=NICOLO FOA", headers=staff_token)
    assert [d["email"] for d in found.json["items"]] == ["nicolo@example.org"]
    bad = client.get("/api/v1/donors?page=0", headers=staff_token)
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "page"
    assert bad.mimetype == "application/problem+json"


def test_one_donor_or_a_404_problem(client, staff_token):
    donor = factories.donor(first_name="Anna", last_name="Neri", town="Crema")
    response = client.get(f"/api/v1/donors/{donor.id}", headers=staff_token)
    assert response.status_code == 200
    body = response.json
    assert (body["id"], body["display_name"], body["town"], body["erased"]) == (
        donor.id,
        "Anna Neri",
        "Crema",
        False,
    )
    assert body["url"].endswith(f"/api/v1/donors/{donor.id}")
    missing = client.get(f"/api/v1/donors/{donor.id + 1}", headers=staff_token)
    assert missing.status_code == 404
    assert missing.mimetype == "application/problem+json"


def test_staff_create_a_donor(client, staff_token):
    response = client.post(
        "/api/v1/donors",
        json={
            "email": "  Giulia.Sala@Example.ORG ",
            "first_name": "Giulia",
            "last_name": "Sala",
            "codice_fiscale": "rssmra85t10a562s",
            "town": "Cremona",
            "language": "en",
            "tags": ["volontari", "cena 2025"],
        },
        headers=staff_token,
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert response.headers["Location"] == body["url"]
    assert (body["email"], body["codice_fiscale"], body["language"]) == (
        "giulia.sala@example.org",
        "RSSMRA85T10A562S",
        "en",
    )
    assert sorted(body["tags"]) == ["cena 2025", "volontari"]
    assert body["newsletter_consent"] is False
    donor = db.session.get(Donor, body["id"])
    assert donor.source == DonorSource.STAFF


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"email", "last_name"}),
        ({"email": "not an address", "last_name": "X"}, {"email"}),
        ({"email": "a@example.org"}, {"last_name"}),
        ({"email": "a@example.org", "kind": "organisation"}, {"organisation_name"}),
        ({"email": "a@example.org", "last_name": "X", "codice_fiscale": "ABC"}, {"codice_fiscale"}),
        ({"email": "a@example.org", "last_name": 7}, {"last_name"}),
        ({"email": "a@example.org", "last_name": "X", "language": "fr"}, {"language"}),
        ({"email": "a@example.org", "last_name": "X", "tags": "a, b"}, {"tags"}),
        ({"email": "taken@example.org", "last_name": "X"}, {"email"}),
    ],
)
def test_invalid_donors_are_422_problems_and_store_nothing(client, staff_token, body, fields):
    factories.donor(email="taken@example.org")
    response = client.post("/api/v1/donors", json=body, headers=staff_token)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 422
    assert {e["field"] for e in response.json["errors"]} == fields
    assert all(e["message"] for e in response.json["errors"])
    assert count(Donor) == 1


def test_segments_are_created_listed_and_list_their_donors(client, staff_token):
    camp = factories.campaign()
    givers = [factories.donor(last_name=name) for name in ("Bassi", "Alti", "Medi")]
    for donor in givers:
        factories.donation(donor=donor, campaign=camp)
    factories.donor(last_name="Zero")
    response = client.post(
        "/api/v1/segments",
        json={"name": "Campaign givers", "definition": {"campaigns": [camp.id]}},
        headers=staff_token,
    )
    assert response.status_code == 201, response.json
    created = response.json
    assert created["definition"] == {"campaigns": [camp.id]}
    assert response.headers["Location"] == created["url"]
    assert client.get(created["url"], headers=staff_token).json == created
    listed = client.get("/api/v1/segments", headers=staff_token).json
    assert [s["name"] for s in listed["items"]] == ["Campaign givers"]
    page = client.get(created["donors_url"] + "?per_page=2&page=2", headers=staff_token).json
    assert (page["total"], page["pages"], page["page"], page["per_page"]) == (3, 2, 2, 2)
    assert [d["last_name"] for d in page["items"]] == ["Medi"]
    first = client.get(created["donors_url"] + "?per_page=2", headers=staff_token).json
    assert [d["last_name"] for d in first["items"]] == ["Alti", "Bassi"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"name", "definition"}),
        ({"name": "S"}, {"definition"}),
        ({"name": 5, "definition": {}}, {"name"}),
        ({"name": "", "definition": {}}, {"name"}),
        ({"name": "S", "definition": {"colour": "red"}}, {"definition"}),
        (
            {"name": "S", "definition": {"total": {"min_cents": "10"}}},
            {"definition.total.min_cents"},
        ),
        ({"name": "S", "definition": {"lybunt": 2025, "monthly": "yes"}}, {"definition.monthly"}),
        ({"name": "Taken", "definition": {}}, {"name"}),
        ({"name": "S", "definition": []}, {"definition"}),
    ],
)
def test_invalid_segments_are_422_problems(client, staff_token, body, fields):
    segments.save(None, "Taken", "", {}, None)
    response = client.post("/api/v1/segments", json=body, headers=staff_token)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert {e["field"] for e in response.json["errors"]} == fields
    assert count(Segment) == 1


def test_segments_by_fundraising_pages_are_accepted_over_the_api(client, staff_token):
    fundraiser = factories.donor(last_name="Pagina")
    definition = {
        "fundraiser": True,
        "raised_through_pages": {"min_cents": 100},
        "gave_through_page_of": [fundraiser.id],
    }
    response = client.post(
        "/api/v1/segments", json={"name": "Pages", "definition": definition}, headers=staff_token
    )
    assert response.status_code == 201, response.json
    assert response.json["definition"] == definition
    zero = {"name": "Zero", "definition": {"raised_through_pages": {"min_cents": 0}}}
    refused = client.post("/api/v1/segments", json=zero, headers=staff_token)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json["errors"]] == [
        "definition.raised_through_pages.min_cents"
    ]
    assert count(Segment) == 1


def test_every_donor_and_segment_route_needs_a_staff_token(client):
    segment = segments.save(None, "Any", "", {}, None)
    donor = factories.donor()
    reads = [
        "/api/v1/donors",
        f"/api/v1/donors/{donor.id}",
        "/api/v1/segments",
        f"/api/v1/segments/{segment.id}",
        f"/api/v1/segments/{segment.id}/donors",
    ]
    treasurer, admin = bearer("treasurer"), bearer("admin")
    for url in reads:
        anonymous = client.get(url)
        assert anonymous.status_code == 401
        assert anonymous.mimetype == "application/problem+json"
        assert client.get(url, headers=treasurer).status_code == 403
        assert client.get(url, headers=admin).status_code == 200
    for url in ("/api/v1/donors", "/api/v1/segments"):
        assert client.post(url, json={}).status_code == 401
        assert client.post(url, json={}, headers=treasurer).status_code == 403


def test_the_openapi_document_describes_donors_and_segments(client):
    spec = client.get("/api/v1/openapi.json").json
    validate(spec)
    for path in ("/donors", "/donors/{donor_id}", "/segments", "/segments/{segment_id}/donors"):
        assert path in spec["paths"]
        for operation in spec["paths"][path].values():
            assert operation["security"] == [{"bearer": []}]
    definition = spec["components"]["schemas"]["SegmentDefinition"]
    assert set(definition["properties"]) == set(segments.CRITERIA)
