"""The gift form: validation that stores nothing, donors found by e-mail with their history,
the donor wall, card-testing defence, and the treasurer's list and export."""

import csv
import io

import pytest
from sqlalchemy import func, select

from donors.identity import DonorDetails, find_or_create, normalise_email
from donors.models import Donor, DonorChange
from legami.extensions import db
from payments.models import BlockedAttempt, Donation
from tests import factories

BASE = {
    "amount": "other",
    "other_amount": "30",
    "frequency": "one_off",
    "method": "bank_transfer",
    "donor_kind": "person",
    "first_name": "Giulia",
    "last_name": "Verdi",
    "email": "giulia@example.org",
}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"other_amount": "0,50"}, "other_amount", "smallest gift is 1"),
        ({"other_amount": "12,345"}, "other_amount", "at most two decimals"),
        ({"other_amount": "60.000"}, "other_amount", "please contact"),
        ({"other_amount": ""}, "amount", "Choose or write an amount"),
        ({"email": "not-an-email"}, "email", "Invalid email"),
        ({"last_name": ""}, "last_name", "first and last name"),
        ({"tax_code": "RSSMRA85T10A562X"}, "tax_code", "not a valid codice fiscale"),
        ({"frequency": "monthly"}, "method", "Monthly gifts are made by card"),
    ],
)
def test_bad_gifts_rerender_and_store_nothing(client, overrides, field, message):
    campaign = factories.campaign()
    response = client.post(f"/campagne/{campaign.slug}/dona?lang=en", data={**BASE, **overrides})
    assert response.status_code == 422
    assert message in response.text
    assert f'id="{field}-error"' in response.text or message in response.text
    assert 'value="Giulia"' in response.text or field == "first_name"
    assert _count(Donation) == 0 and _count(Donor) == 0


def test_only_live_campaigns_take_gifts(client):
    draft = factories.campaign(status="draft")
    ended = factories.campaign(status="ended")
    assert client.get(f"/campagne/{draft.slug}/dona").status_code == 404
    assert client.post(f"/campagne/{ended.slug}/dona", data=BASE).status_code == 404


def test_donor_found_by_folded_email_keeps_history(app):
    first = find_or_create(
        DonorDetails(
            email="\uff2daria.Rossi@Example.ORG ",  # a full-width M, as phones sometimes type
            first_name="Maria",
            last_name="Rossi",
            town="Cremona",
        ),
        source="gift:a",
    )
    db.session.commit()
    assert first.email == "maria.rossi@example.org"
    again = find_or_create(
        DonorDetails(
            email="MARIA.ROSSI@example.org",
            first_name="Maria",
            last_name="Rossi",
            town="Crema",
            codice_fiscale="RSSMRA85T10A562S",
        ),
        source="gift:b",
    )
    db.session.commit()
    assert again.id == first.id and _count(Donor) == 1
    assert (again.town, again.codice_fiscale) == ("Crema", "RSSMRA85T10A562S")
    changes = {
        (c.field, c.old_value, c.new_value, c.source)
        for c in db.session.scalars(select(DonorChange))
    }
    assert changes == {
        ("town", "Cremona", "Crema", "gift:b"),
        ("codice_fiscale", "", "RSSMRA85T10A562S", "gift:b"),
    }
    # Empty details never erase what is known.
    find_or_create(DonorDetails(email="maria.rossi@example.org", last_name="Rossi"), "gift:c")
    assert db.session.get(Donor, first.id).town == "Crema"
    assert normalise_email("ÉLodie@Exämple.it") == "élodie@exämple.it"


def test_organisation_donor_with_partita_iva(client):
    campaign = factories.campaign()
    data = {
        **BASE,
        "donor_kind": "organisation",
        "organisation_name": "Ditta Srl",
        "first_name": "",
        "last_name": "",
        "tax_code": "01234560199",
    }
    assert client.post(f"/campagne/{campaign.slug}/dona", data=data).status_code == 302
    donor = db.session.scalar(select(Donor))
    assert (donor.kind, donor.partita_iva, donor.codice_fiscale) == (
        "organisation",
        "01234560199",
        "01234560199",
    )
    assert donor.display_name == "Ditta Srl"


def test_donor_wall_names_only_who_allowed_it(client, login):
    campaign = factories.campaign()
    login("treasurer")
    for email, show, dedication in (
        ("a@example.org", "y", "Per la nonna"),
        ("b@example.org", "", "Segreto"),
    ):
        data = {**BASE, "email": email, "dedication": dedication}
        if show:
            data["show_name"] = show
        client.post(f"/campagne/{campaign.slug}/dona", data=data)
    for donation in db.session.scalars(select(Donation)):
        client.post(
            f"/staff/donations/{donation.id}/confirm",
            data={"received_on": "2026-11-20", "confirmed": "1"},
        )
    page = client.get(f"/campagne/{campaign.slug}?lang=it").text
    wall = page.split('class="wall"', 1)[1].split("</ul>", 1)[0]
    assert "Giulia Verdi" in wall and "30\xa0€" in wall and "Per la nonna" in wall
    assert "Anonimo" in wall or "Anonymous" in wall
    assert "Segreto" not in wall
    assert wall.count("30\xa0€") == 1  # the anonymous gift shows no amount


def test_honeypot_and_rate_limits_block_and_log(app_with):
    app = app_with(RATELIMIT_ENABLED=True)
    campaign = factories.campaign()
    client = app.test_client()
    bot = client.post(f"/campagne/{campaign.slug}/dona", data={**BASE, "website": "spam"})
    assert bot.status_code == 400
    codes = [
        client.post(
            f"/campagne/{campaign.slug}/dona", data={**BASE, "email": "same@example.org"}
        ).status_code
        for _ in range(7)
    ]
    assert codes == [302] * 5 + [429] * 2  # five an hour per e-mail
    reasons = [a.reason for a in db.session.scalars(select(BlockedAttempt))]
    assert reasons[0] == "honeypot"
    assert any(r.startswith("rate limit 5 per 1 hour") for r in reasons)
    assert all(
        a.email in ("same@example.org", "giulia@example.org")
        for a in db.session.scalars(select(BlockedAttempt))
    )


def test_donation_list_filters_and_csv_escapes_formulas(client, login):
    campaign = factories.campaign()
    other = factories.campaign()
    client.post(
        f"/campagne/{campaign.slug}/dona",
        data={**BASE, "first_name": '=HYPERLINK("http://x")', "last_name": "Evil"},
    )
    client.post(f"/campagne/{other.slug}/dona", data={**BASE, "email": "z@example.org"})
    login("treasurer")
    listing = client.get(f"/staff/donations?campaign={campaign.id}").text
    assert "Evil" in listing and "z@example.org" not in listing
    exported = client.get(f"/staff/donations.csv?campaign={campaign.id}")
    assert exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["id", "created", "received_on"]
    assert len(rows) == 2
    assert rows[1][4].startswith("'=HYPERLINK")
    assert rows[1][9] == "30.00"
