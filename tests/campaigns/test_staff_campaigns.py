"""Staff create, edit, preview, publish and close campaigns; bad input stores nothing."""

import io
import os
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from campaigns.models import Campaign, Lab, Pact, Update
from legami.extensions import db
from legami.timeutil import today_rome
from tests import factories


def _form(org, **overrides):
    today = today_rome()
    data = {
        "title": "Orti condivisi al Cambonino",
        "slug": "",
        "organisation_id": str(org.id),
        "summary": "Un orto per il quartiere.",
        "story": "La **storia**.",
        "goal": "5.000",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=30)).isoformat(),
    }
    data.update(overrides)
    return data


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_campaign_lifecycle(client, login):
    login("staff")
    org = factories.organisation()
    pact = factories.pact()
    lab = factories.lab()
    data = _form(org, pact_ids=str(pact.id), lab_ids=str(lab.id))
    data["cover"] = (io.BytesIO(factories.image_bytes("JPEG")), "cover.jpg")
    response = client.post("/staff/campaigns/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    campaign = db.session.scalar(select(Campaign))
    assert (campaign.slug, campaign.status, campaign.goal_cents) == (
        "orti-condivisi-al-cambonino",
        "draft",
        500_000,
    )
    assert [p.id for p in campaign.pacts] == [pact.id]
    assert [x.id for x in campaign.labs] == [lab.id]
    assert campaign.cover.endswith(".jpg")
    assert client.get(f"/uploads/{campaign.cover}").status_code == 200

    # A draft is not public, but staff can preview it.
    assert client.get(f"/campagne/{campaign.slug}").status_code == 404
    preview = client.get(f"/staff/campaigns/{campaign.id}/preview")
    assert preview.status_code == 200 and "Orti condivisi al Cambonino" in preview.text

    # Closing a draft is refused; publish -> live -> close -> ended -> archive.
    client.post(f"/staff/campaigns/{campaign.id}/close")
    assert db.session.get(Campaign, campaign.id).status == "draft"
    client.post(f"/staff/campaigns/{campaign.id}/publish")
    campaign = db.session.get(Campaign, campaign.id)
    assert campaign.status == "live" and campaign.published_at is not None
    public = client.get(f"/campagne/{campaign.slug}")
    assert public.status_code == 200
    assert "<strong>storia</strong>" in public.text
    assert 'value="0"' in public.text  # nothing raised yet
    home = client.get("/").text
    assert f"/campagne/{campaign.slug}" in home

    client.post(
        f"/staff/campaigns/{campaign.id}/updates",
        data={"title": "Primo raccolto", "body": "Pomodori!"},
    )
    assert db.session.scalar(select(Update.title)) == "Primo raccolto"
    assert "Primo raccolto" in client.get(f"/campagne/{campaign.slug}").text

    client.post(f"/staff/campaigns/{campaign.id}/close")
    campaign = db.session.get(Campaign, campaign.id)
    assert campaign.status == "ended" and campaign.closed_at is not None
    assert f"/campagne/{campaign.slug}" not in client.get("/").text
    assert client.get(f"/campagne/{campaign.slug}").status_code == 200
    client.post(f"/staff/campaigns/{campaign.id}/archive")
    assert db.session.get(Campaign, campaign.id).status == "archived"
    client.post(f"/staff/campaigns/{campaign.id}/publish")
    assert db.session.get(Campaign, campaign.id).status == "archived"


def test_editing_keeps_links_and_changes_fields(client, login):
    login("staff")
    pact = factories.pact()
    campaign = factories.campaign(pacts=[pact])
    data = _form(
        campaign.organisation,
        title="Nuovo titolo",
        slug=campaign.slug,
        goal="7500,50",
        pact_ids=str(pact.id),
    )
    assert client.post(f"/staff/campaigns/{campaign.id}", data=data).status_code == 302
    campaign = db.session.get(Campaign, campaign.id)
    assert campaign.title == "Nuovo titolo"
    assert campaign.goal_cents == 750_050
    assert [p.id for p in campaign.pacts] == [pact.id]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"goal": "-100"}, "goal", "cannot be negative"),
        ({"goal": "dieci"}, "goal", "amount in euros"),
        ({"goal": "0"}, "goal", "more than zero"),
        ({"ends_on": "2020-01-01"}, "ends_on", "must not be before the start date"),
        ({"title": ""}, "title", "required"),
        ({"slug": "Not A Slug!"}, "slug", "lower-case letters"),
    ],
)
def test_invalid_campaign_rerenders_and_stores_nothing(client, login, overrides, field, message):
    login("staff")
    org = factories.organisation()
    response = client.post(
        "/staff/campaigns/new",
        data=_form(org, **overrides),
        headers={"Accept-Language": "en"},
        query_string={"lang": "en"},
    )
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert message in response.text.lower() or message in response.text
    assert 'value="Orti condivisi' in response.text or field == "title"  # input kept
    assert _count(Campaign) == 0


def test_duplicate_slug_is_refused(client, login):
    login("staff")
    existing = factories.campaign(slug="orto")
    response = client.post(
        "/staff/campaigns/new",
        data=_form(existing.organisation, slug="orto"),
        query_string={"lang": "en"},
    )
    assert response.status_code == 422
    assert "already used" in response.text
    assert _count(Campaign) == 1


def _noise_png() -> bytes:
    """Random pixels: PNG cannot compress them under a small limit."""
    out = io.BytesIO()
    Image.frombytes("RGB", (100, 100), os.urandom(30_000)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("payload", "name", "message"),
    [
        (b"GIF89a not really", "cover.gif", "JPEG, PNG or WebP"),
        (b"%PDF-1.4 pretend", "cover.png", "JPEG, PNG or WebP"),
        (_noise_png(), "huge.png", "larger than"),
    ],
)
def test_bad_uploads_are_refused(app, client, login, payload, name, message):
    login("staff")
    app.config["MAX_IMAGE_BYTES"] = 20_000
    data = _form(factories.organisation())
    data["cover"] = (io.BytesIO(payload), name)
    response = client.post(
        "/staff/campaigns/new",
        data=data,
        query_string={"lang": "en"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert message in response.text
    assert 'id="cover-error"' in response.text
    assert _count(Campaign) == 0
    assert list(Path(app.config["UPLOAD_FOLDER"]).iterdir()) == []


def _elements(html: str) -> list[tuple[str, list]]:
    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def test_story_is_sanitised(client):
    story = (
        "Ciao <script>alert('x')</script>\n\n"
        '<img src="x" onerror="alert(1)">\n\n'
        "[clicca](javascript:alert(1)) e [sito](https://example.org)\n\n"
        '<a href="https://evil.example" onclick="steal()">link</a>'
    )
    campaign = factories.campaign(story=story)
    html = client.get(f"/campagne/{campaign.slug}").text
    body = html.split('class="story"', 1)[1].split("</section>", 1)[0]
    elements = _elements(body)
    tags = {tag for tag, _ in elements}
    assert not tags & {"script", "img"}  # raw HTML is shown as text, never as elements
    assert not [name for _, attrs in elements for name, _ in attrs if name.startswith("on")]
    hrefs = [value for _, attrs in elements for name, value in attrs if name == "href"]
    assert hrefs == ["https://example.org"]
    assert "&lt;script&gt;" in body
    assert '<a href="https://example.org" rel="noopener nofollow">sito</a>' in body


def test_pact_and_lab_pages_list_their_public_campaigns(client):
    pact = factories.pact(title="Una patente per lavorare")
    lab = factories.lab(title="Laboratorio Lavoro")
    live = factories.campaign(title="Al lavoro", pacts=[pact], labs=[lab])
    factories.campaign(title="Bozza segreta", status="draft", pacts=[pact], labs=[lab])
    for url in (f"/patti/{pact.slug}", f"/laboratori/{lab.slug}"):
        page = client.get(url).text
        assert live.title in page
        assert "Bozza segreta" not in page
    assert "Restituisce tempo al quartiere." in client.get(f"/patti/{pact.slug}").text
    assert client.get("/patti/nessuno").status_code == 404


def test_staff_create_pact_and_lab(client, login):
    login("staff")
    response = client.post(
        "/staff/pacts/new",
        data={
            "title": "Libri e doposcuola",
            "summary": "Libri di testo.",
            "story": "",
            "reciprocity": "Corso di arabo per le insegnanti.",
            "place": "Cremona",
            "status": "proposed",
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(select(Pact.slug)) == "libri-e-doposcuola"
    bad = client.post(
        "/staff/labs/new",
        data={
            "title": "Lab",
            "summary": "x",
            "place": "Crema",
            "place_kind": "moon",
            "status": "active",
        },
    )
    assert bad.status_code == 422
    assert _count(Lab) == 0
