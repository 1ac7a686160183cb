"""Personal and team fundraising pages: opened only after the e-mail link, approval, hiding,
plain text, photo checks, rate limit per address; gifts attributed, page progress and wall,
leaderboard; the owner told of gifts and of the goal, their edits and relayed thank-you."""

import io
from datetime import timedelta

from sqlalchemy import func, select

from legami.extensions import db
from legami.timeutil import today_rome
from payments import fundraising_pages, treasury
from payments.models import Donation, RecurringGift
from payments.page_models import FundraisingPage, PageGift, PageStatus
from tests import factories
from tests.conftest import deliver_queued
from tests.payments.pages import campaign_with_pages, mailed_link, open_page, page_form


def _give_through(client, page, cents: int, email: str, show_name: bool = True) -> Donation:
    data = {
        "amount": "other",
        "other_amount": f"{cents // 100},{cents % 100:02d}",
        "frequency": "one_off",
        "method": "bank_transfer",
        "donor_kind": "person",
        "first_name": "Anna",
        "last_name": "Verdi",
        "email": email,
    }
    if show_name:
        data["show_name"] = "y"
    response = client.post(f"/pagine/{page.slug}/dona", data=data)
    assert response.status_code == 302, response.text
    token = response.headers["Location"].split("/")[2]
    gift = db.session.scalar(select(Donation).where(Donation.token == token))
    treasury.confirm_transfer(gift.id, today_rome(), None)
    db.session.commit()
    return gift


def test_a_page_exists_only_after_the_mailed_link(app, client, smtp_server, english):
    campaign = campaign_with_pages()
    data = page_form(campaign)
    response = client.post(f"/campagne/{campaign.slug}/pagine/nuova", data=data)
    assert "Check your e-mail" in response.text
    page = db.session.scalar(select(FundraisingPage))
    assert page.status == PageStatus.UNCONFIRMED
    assert client.get(f"/pagine/{page.slug}").status_code == 404
    path = mailed_link(app, smtp_server, "luca@example.org")
    assert client.get(path).status_code == 200  # a scanner opening it uses nothing up
    assert client.post(path).status_code == 200
    db.session.expire_all()
    assert db.session.get(FundraisingPage, page.id).status == PageStatus.LIVE
    assert client.post(path).status_code == 410  # single use
    public = client.get(f"/pagine/{page.slug}").text
    assert "I miei 40 anni per il quartiere" in public
    assert "<p>Per il mio compleanno</p>" in public


def test_staff_approve_pages_when_the_campaign_asks(app, client, smtp_server, login, english):
    campaign = campaign_with_pages(needs_approval=True)
    page = open_page(app, client, smtp_server, campaign)
    assert page.status == PageStatus.PENDING
    assert client.get(f"/pagine/{page.slug}").status_code == 200  # the owner sees it
    assert app.test_client().get(f"/pagine/{page.slug}").status_code == 404  # others do not
    login("staff")
    queue = client.get("/staff/pagine/").text
    assert page.title in queue
    preview = client.get(f"/staff/pagine/{page.id}").text
    assert "Preview: this is how the public page looks." in preview
    assert client.post(f"/staff/pagine/{page.id}/approve").status_code == 302
    db.session.refresh(page)
    assert page.status == PageStatus.LIVE
    assert client.post(f"/staff/pagine/{page.id}/hide").status_code == 302
    db.session.refresh(page)
    assert page.status == PageStatus.HIDDEN


def test_hidden_pages_disappear_and_their_gifts_stay_with_the_campaign(
    app, client, smtp_server, english
):
    campaign = campaign_with_pages()
    page = open_page(app, client, smtp_server, campaign)
    gift = _give_through(client, page, 2_000, "anna@example.org")
    fundraising_pages.review(page, "hide", None)
    db.session.commit()
    anonymous = app.test_client()
    assert anonymous.get(f"/pagine/{page.slug}").status_code == 404
    db.session.refresh(campaign)
    assert campaign.raised_cents == 2_000
    assert db.session.scalar(select(PageGift.page_id).where(PageGift.donation_id == gift.id))


def test_plain_text_and_clear_errors(app, client, smtp_server, english):
    campaign = campaign_with_pages()
    bad = client.post(
        f"/campagne/{campaign.slug}/pagine/nuova",
        data=page_form(
            campaign,
            ends_on=(campaign.ends_on + timedelta(days=1)).isoformat(),
        ),
    )
    assert bad.status_code == 422
    assert "Choose an end date from today to the campaign" in bad.text
    page = open_page(
        app, client, smtp_server, campaign, story="<script>alert(1)</script><b>ciao</b>"
    )
    html = client.get(f"/pagine/{page.slug}").text
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;ciao&lt;/b&gt;" in html


def test_photos_pass_the_upload_checks(app, client, smtp_server, english):
    campaign = campaign_with_pages()
    data = page_form(campaign)
    data["photo"] = (io.BytesIO(b"not an image"), "foto.png")
    bad = client.post(
        f"/campagne/{campaign.slug}/pagine/nuova", data=data, content_type="multipart/form-data"
    )
    assert bad.status_code == 422
    assert "Upload a JPEG, PNG or WebP image." in bad.text
    data = page_form(campaign)
    data["photo"] = (io.BytesIO(factories.image_bytes()), "foto.png")
    good = client.post(
        f"/campagne/{campaign.slug}/pagine/nuova", data=data, content_type="multipart/form-data"
    )
    assert good.status_code == 200
    assert db.session.scalar(select(FundraisingPage.photo)).endswith(".png")


def test_new_pages_are_rate_limited_per_address(app, client, smtp_server, english):
    campaign = campaign_with_pages()
    for n in range(fundraising_pages.PAGES_PER_DAY):
        data = page_form(campaign, title=f"Pagina {n}")
        assert client.post(f"/campagne/{campaign.slug}/pagine/nuova", data=data).status_code == 200
    refused = client.post(f"/campagne/{campaign.slug}/pagine/nuova", data=page_form(campaign))
    assert refused.status_code == 422
    assert "You opened several pages today" in refused.text
    other = page_form(campaign, email="altra@example.org")
    assert client.post(f"/campagne/{campaign.slug}/pagine/nuova", data=other).status_code == 200


def test_a_campaign_without_pages_takes_none(client):
    campaign = factories.campaign()
    assert client.get(f"/campagne/{campaign.slug}/pagine/nuova").status_code == 404


def test_gifts_through_a_page_count_for_it_its_team_and_the_campaign(
    app, client, smtp_server, english
):
    campaign = campaign_with_pages()
    team = open_page(
        app,
        client,
        smtp_server,
        campaign,
        title="Classe 3B",
        is_team="y",
        goal="100",
        email="prof@example.org",
        first_name="Prof",
        display_name="La 3B",
    )
    member = open_page(
        app,
        client,
        smtp_server,
        campaign,
        title="Giulia corre",
        team_slug=team.slug,
        email="giulia@example.org",
        first_name="Giulia",
        display_name="Giulia",
        goal="30",
    )
    assert member.team_id == team.id
    _give_through(client, member, 2_000, "anna@example.org")
    _give_through(client, team, 1_000, "bruno@example.org", show_name=False)
    _give_through(client, member, 1_500, "carla@example.org")
    assert fundraising_pages.raised(member) == (3_500, 2)
    assert fundraising_pages.raised(team) == (4_500, 3)
    db.session.refresh(campaign)
    assert campaign.raised_cents == 4_500
    html = client.get(f"/pagine/{team.slug}").text
    assert "Giulia" in html and "€35" in html  # the member's own total
    assert "Anonymous" in html
    assert "Anna Verdi" in html
    board = client.get(f"/campagne/{campaign.slug}").text
    assert board.index("Classe 3B") < board.index("Giulia corre")  # 45 € before 35 €
    # The owner is told of each gift and, once, of the goal reached.
    smtp_server.messages.clear()
    deliver_queued(app)
    to_giulia = [m for m in smtp_server.messages if m["To"] == "giulia@example.org"]
    bodies = [m.get_body(("plain",)).get_content() for m in to_giulia]
    assert any("Anna Verdi gave €20 through your page" in b for b in bodies)
    assert sum("reached its goal" in b for b in bodies) == 1
    to_prof = [
        m.get_body(("plain",)).get_content()
        for m in smtp_server.messages
        if m["To"] == "prof@example.org"
    ]
    assert any("An anonymous donor gave through your page" in b for b in to_prof)
    assert not any("gave €10" in b for b in to_prof)


def test_the_owner_edits_the_page_and_thanks_donors_once(app, client, smtp_server, english):
    campaign = campaign_with_pages()
    page = open_page(app, client, smtp_server, campaign)  # the link signed the owner in
    _give_through(client, page, 2_000, "anna@example.org")
    _give_through(client, page, 500, "anna@example.org")
    _give_through(client, page, 700, "bruno@example.org", show_name=False)
    owner = client  # the same browser: its donor-area session
    edited = owner.post(
        f"/portal/pagine/{page.slug}",
        data={
            "title": "Nuovo titolo",
            "story": "Grazie a tutti",
            "goal": "800",
            "ends_on": page.ends_on.isoformat(),
        },
    )
    assert edited.status_code == 302
    db.session.refresh(page)
    assert (page.title, page.goal_cents, page.on_leaderboard) == ("Nuovo titolo", 80_000, False)
    listing = owner.get(f"/portal/pagine/{page.slug}").text
    assert "anna@example.org" not in listing and "bruno@example.org" not in listing
    smtp_server.messages.clear()
    sent = owner.post(f"/portal/pagine/{page.slug}/grazie", data={"message": "Grazie di cuore!"})
    assert sent.status_code == 302
    again = owner.post(f"/portal/pagine/{page.slug}/grazie", data={"message": "Ancora"})
    assert again.status_code == 422
    deliver_queued(app)
    thanked = [
        m
        for m in smtp_server.messages
        if "Grazie di cuore!" in m.get_body(("plain",)).get_content()
    ]
    assert sorted(m["To"] for m in thanked) == ["anna@example.org", "bruno@example.org"]
    assert all("luca@example.org" not in str(m) for m in thanked)
    stranger = app.test_client()
    assert (
        stranger.post(f"/portal/pagine/{page.slug}/grazie", data={"message": "x"}).status_code
        == 302
    )


def test_a_monthly_gift_through_a_page_brings_each_instalment(app, client, smtp_server):
    campaign = campaign_with_pages()
    page = open_page(app, client, smtp_server, campaign)
    donor = factories.donor()
    monthly = RecurringGift(donor=donor, campaign=campaign, amount_cents=1_000, status="active")
    db.session.add(monthly)
    db.session.flush()
    fundraising_pages.attribute(monthly, page)
    db.session.commit()
    for _ in range(2):
        instalment = factories.donation(
            campaign=campaign,
            donor=donor,
            recurring_gift=monthly,
            frequency="monthly",
            method="bank_transfer",
            status="pending",
            received_on=None,
            amount_cents=1_000,
        )
        treasury.confirm_transfer(instalment.id, today_rome(), None)
        db.session.commit()
    assert fundraising_pages.raised(page) == (2_000, 2)


def test_bad_links_and_requests_get_clear_answers(app, client, smtp_server, login, english):
    campaign = campaign_with_pages(needs_approval=True)
    page = open_page(app, client, smtp_server, campaign)
    assert client.get("/pagine/conferma/non-un-token").status_code == 410
    assert client.post("/pagine/conferma/non-un-token").status_code == 410
    assert client.get("/pagine/nessuna").status_code == 404
    assert client.get(f"/pagine/{page.slug}/dona").status_code == 404  # not live yet
    stranger = app.test_client()
    assert stranger.get(f"/portal/pagine/{page.slug}").status_code == 302  # to the sign-in
    other = open_page(
        app, stranger, smtp_server, campaign, email="other@example.org", title="Altra"
    )
    assert stranger.get(f"/portal/pagine/{page.slug}").status_code == 404  # not theirs
    assert stranger.get(f"/portal/pagine/{other.slug}").status_code == 200
    login("staff")
    response = client.post(f"/staff/pagine/{page.id}/explode", follow_redirects=True)
    assert "This page cannot be changed that way now." in response.text
    assert client.post(f"/staff/pagine/{page.id}/show").status_code == 302  # not hidden
    db.session.refresh(page)
    assert page.status == PageStatus.PENDING
    assert client.post("/staff/pagine/999999/approve").status_code == 404
    bad_team = client.post(
        f"/campagne/{campaign.slug}/pagine/nuova",
        data=page_form(campaign, team_slug="nessuna-squadra", email="x@example.org"),
    )
    assert bad_team.status_code == 422
    assert "This team is not open on this campaign." in bad_team.text


def test_opening_pages_is_rate_limited_per_network_address(app_with):
    app = app_with(RATELIMIT_ENABLED=True)
    campaign = campaign_with_pages()
    client = app.test_client()
    codes = [
        client.post(
            f"/campagne/{campaign.slug}/pagine/nuova",
            data=page_form(campaign, email=f"persona{n}@example.org"),
        ).status_code
        for n in range(7)
    ]
    assert codes == [200] * 5 + [429] * 2  # five an hour from one address
    assert db.session.scalar(select(func.count(FundraisingPage.id))) == 5
