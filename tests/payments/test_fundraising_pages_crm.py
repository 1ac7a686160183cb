"""Soft credits in the CRM (record and segments), and the API's pages and challenges."""

from sqlalchemy import select

from donors import segments
from donors.models import Donor
from legami.extensions import db
from payments import treasury
from tests import factories
from tests.payments.matching import challenge
from tests.payments.pages import campaign_with_pages, open_page
from tests.payments.test_fundraising_pages import _give_through


def _donor(email: str) -> Donor:
    return db.session.scalar(select(Donor).where(Donor.email == email))


def test_soft_credits_on_the_record_and_in_segments(app, client, smtp_server, login, english):
    campaign = campaign_with_pages()
    page = open_page(app, client, smtp_server, campaign)
    small = open_page(
        app, client, smtp_server, campaign, email="marta@example.org", title="Marta", goal="50"
    )
    _give_through(client, page, 3_000, "anna@example.org")
    refunded = _give_through(client, page, 4_000, "bruno@example.org")
    _give_through(client, small, 1_000, "carla@example.org")
    treasury.refund(refunded.id, 4_000, "errore", None)
    db.session.commit()
    luca, marta = _donor("luca@example.org"), _donor("marta@example.org")

    def emails(definition) -> list[str]:
        return sorted(d.email for d in db.session.scalars(segments.compile(definition)))

    assert emails({"fundraiser": True}) == ["luca@example.org", "marta@example.org"]
    assert emails({"raised_through_pages": {"min_cents": 2_000}}) == ["luca@example.org"]
    assert emails({"raised_through_pages": {"min_cents": 3_001}}) == []  # the refund is out
    assert emails({"gave_through_page_of": [marta.id]}) == ["carla@example.org"]
    assert emails({"gave_through_page_of": [luca.id]}) == ["anna@example.org"]
    # The gifts stay the donors': the fundraiser gave nothing themselves.
    assert "luca@example.org" not in emails({"total": {"min_cents": 1}})
    login("staff")
    record = client.get(f"/staff/donors/{luca.id}").text
    assert "Raised through their pages" in record and "€30" in record


def test_segment_definitions_with_soft_credits_are_checked(app):
    try:
        segments.validate({"raised_through_pages": {"min_cents": -1}})
    except segments.InvalidDefinition as invalid:
        assert "raised_through_pages.min_cents" in invalid.errors
    else:
        raise AssertionError("a negative minimum was accepted")


def test_api_reads_pages_and_challenges(app, client, smtp_server):
    campaign = campaign_with_pages()
    page = open_page(app, client, smtp_server, campaign)
    _give_through(client, page, 2_500, "anna@example.org")
    challenge(campaign, cap_cents=10_000, public_text="Raddoppio")
    listing = client.get(f"/api/v1/campaigns/{campaign.slug}/pages").get_json()
    assert [p["slug"] for p in listing["items"]] == [page.slug]
    one = client.get(f"/api/v1/pages/{page.slug}").get_json()
    assert (one["raised_cents"], one["goal_cents"], one["kind"]) == (2_500, 50_000, "personal")
    found = client.get(f"/api/v1/campaigns/{campaign.slug}/challenges").get_json()["items"]
    assert [(c["cap_cents"], c["matched_cents"], c["public_text"]) for c in found] == [
        (10_000, 0, "Raddoppio")
    ]
    missing = client.get("/api/v1/pages/nessuna")
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/problem+json")
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/campaigns/{slug}/pages", "/pages/{slug}", "/campaigns/{slug}/challenges"):
        assert path in spec["paths"]
    assert "FundraisingPage" in spec["components"]["schemas"]
    other = factories.campaign()
    assert client.get(f"/api/v1/campaigns/{other.slug}/pages").get_json()["items"] == []
