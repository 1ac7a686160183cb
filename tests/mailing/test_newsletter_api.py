"""/api/v1/newsletters: list, create a draft, schedule; staff tokens; problem details."""

import pytest
from sqlalchemy import select

from legami.extensions import db
from legami.models import ApiToken, AuditEntry
from mailing.models import MailSettings, Newsletter
from tests import factories


@pytest.fixture
def staff(app):
    user = factories.user(roles=("staff",))
    _, token = ApiToken.issue(user)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _draft(organisation_id: int, **overrides) -> dict:
    return {
        "organisation_id": organisation_id,
        "title": "Notizie di dicembre",
        "versions": {"it": {"subject": "Ciao {{ first_name }}", "body": "Le notizie."}},
        **overrides,
    }


def test_create_list_and_schedule(client, staff):
    org = factories.organisation()
    factories.donor(email="anna@example.org", newsletter_consent=True)
    created = client.post("/api/v1/newsletters", json=_draft(org.id), headers=staff)
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["status"], body["languages"], body["title"]) == (
        "draft",
        ["it"],
        "Notizie di dicembre",
    )
    assert created.headers["Location"] == body["url"]
    assert client.get(body["url"], headers=staff).json["id"] == body["id"]

    for n in range(2):
        client.post("/api/v1/newsletters", json=_draft(org.id, title=f"Altra {n}"), headers=staff)
    page = client.get("/api/v1/newsletters?per_page=2", headers=staff).json
    assert (page["total"], page["pages"], len(page["items"])) == (3, 2, 2)
    assert client.get("/api/v1/newsletters?status=scheduled", headers=staff).json["total"] == 0

    url = f"/api/v1/newsletters/{body['id']}/schedule"
    scheduled = client.post(url, json={"at": "2099-06-01T09:00"}, headers=staff)
    assert scheduled.status_code == 200, scheduled.json
    assert scheduled.json["scheduled_at"] == "2099-06-01T07:00:00+00:00"  # Rome, summer time
    assert (scheduled.json["status"], scheduled.json["recipients"]) == ("scheduled", 1)
    moved = client.post(url, json={"at": "2099-06-02T09:00:00+00:00"}, headers=staff)
    assert moved.json["scheduled_at"] == "2099-06-02T09:00:00+00:00"
    now = client.post(url, json={"at": None}, headers=staff)
    assert now.status_code == 200 and now.json["status"] == "scheduled"
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["newsletter.schedule", "newsletter.reschedule", "newsletter.reschedule"]


def test_a_draft_without_a_sender_takes_the_organisations(client, staff):
    org = factories.organisation(name="Legami ETS", email="info@legami.example")
    db.session.add(MailSettings(organisation_id=org.id, reply_to="risposte@legami.example"))
    db.session.commit()
    default = client.post("/api/v1/newsletters", json=_draft(org.id), headers=staff).json
    assert (default["from_name"], default["from_email"], default["reply_to"]) == (
        "Legami ETS",
        "info@legami.example",
        "risposte@legami.example",
    )
    given = _draft(org.id, from_name="Notizie", from_email="notizie@legami.example")
    chosen = client.post("/api/v1/newsletters", json=given, headers=staff).json
    assert (chosen["from_name"], chosen["from_email"]) == ("Notizie", "notizie@legami.example")


def test_bad_input_is_a_problem_and_stores_nothing(client, staff):
    org = factories.organisation()
    bad = client.post(
        "/api/v1/newsletters",
        json=_draft(org.id, title=3, versions={"fr": {}}, segment_ids="all"),
        headers=staff,
    )
    assert bad.status_code == 422
    assert bad.mimetype == "application/problem+json"
    fields = {e["field"] for e in bad.json["errors"]}
    assert fields == {"title", "versions", "versions.it", "segment_ids"}
    no_subject = client.post(
        "/api/v1/newsletters", json=_draft(org.id, versions={"it": {"body": "x"}}), headers=staff
    )
    assert no_subject.status_code == 422
    assert db.session.scalar(select(db.func.count()).select_from(Newsletter)) == 0


def test_schedule_problems(client, staff):
    org = factories.organisation()
    created = client.post("/api/v1/newsletters", json=_draft(org.id), headers=staff).json
    url = f"/api/v1/newsletters/{created['id']}/schedule"
    nobody = client.post(url, json={}, headers=staff)
    assert nobody.status_code == 422
    assert [e["field"] for e in nobody.json["errors"]] == ["audience"]
    factories.donor(email="anna@example.org", newsletter_consent=True)
    for at in ("2001-01-01T10:00", "tomorrow", 12):
        response = client.post(url, json={"at": at}, headers=staff)
        assert response.status_code == 422, at
        assert [e["field"] for e in response.json["errors"]] == ["at"]
    assert (
        client.post("/api/v1/newsletters/999/schedule", json={}, headers=staff).status_code == 404
    )
    assert db.session.get(Newsletter, created["id"]).status == "draft"


def test_tokens_and_roles(client):
    assert client.get("/api/v1/newsletters").status_code == 401
    _, token = ApiToken.issue(factories.user(roles=("treasurer",)))
    db.session.commit()
    forbidden = client.get("/api/v1/newsletters", headers={"Authorization": f"Bearer {token}"})
    assert forbidden.status_code == 403
    assert forbidden.mimetype == "application/problem+json"
