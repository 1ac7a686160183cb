"""The staff donor list and record: giving figures, timeline, search, edits, roles."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from stdnum import luhn

from donors import giving_figures, listing
from donors.models import (
    ConsentEvent,
    Donor,
    DonorChange,
    DonorEmail,
    DonorMerge,
    Interaction,
    Tag,
)
from donors.timeline import timeline
from legami.extensions import db
from legami.money import format_money
from mailing.models import MailJob
from payments.models import RecurringGift, RecurringStatus, Refund, Status
from tests import factories

CF = "RSSMRA85T10A562S"  # a well-formed codice fiscale
PIVA = "1234567001" + luhn.calc_check_digit("1234567001")


def in_english(client) -> None:
    with client.session_transaction() as session:
        session["lang"] = "en"


def at(year, month, day, hour=10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def gift(donor, campaign, day: date, cents: int, **extra):
    return factories.donation(
        donor=donor, campaign=campaign, received_on=day, amount_cents=cents, **extra
    )


def monthly(donor, campaign, cents: int, status=RecurringStatus.ACTIVE, **extra):
    row = RecurringGift(donor=donor, campaign=campaign, amount_cents=cents, status=status, **extra)
    db.session.add(row)
    db.session.commit()
    return row


# Giving figures


def test_giving_figures_on_a_hand_made_history(app):
    donor, other = factories.donor(), factories.donor()
    camp = factories.campaign()
    gift(donor, camp, date(2022, 3, 1), 5_000)
    gift(donor, camp, date(2022, 11, 30), 3_000)
    gift(donor, camp, date(2023, 5, 5), 10_000, refunded_cents=4_000)  # kept 60 EUR
    gift(donor, camp, date(2023, 6, 1), 2_000, status=Status.REFUNDED, refunded_cents=2_000)
    gift(donor, camp, date(2023, 7, 1), 9_000, status=Status.PENDING)
    gift(donor, camp, date(2023, 8, 1), 9_000, status=Status.FAILED)
    plan = monthly(donor, camp, 1_000)
    monthly(donor, camp, 700, status=RecurringStatus.CANCELLED, cancelled_at=at(2023, 1, 1))
    for month in (1, 2):
        gift(donor, camp, date(2024, month, 3), 1_000, recurring_gift_id=plan.id)
    gift(other, camp, date(2024, 1, 1), 99_900)

    figures = giving_figures.figures(donor.id)

    assert [(y.year, y.total_cents, y.count) for y in figures.years] == [
        (2024, 2_000, 2),
        (2023, 6_000, 1),
        (2022, 8_000, 2),
    ]
    assert figures.total_cents == 16_000
    assert figures.count == 5
    assert figures.first_gift_on == date(2022, 3, 1)
    assert figures.last_gift_on == date(2024, 2, 3)
    assert figures.largest_cents == 6_000
    assert figures.average_cents == 3_200
    assert figures.monthly_cents == 1_000
    assert figures.recurring_status == "active"


def test_giving_figures_of_a_donor_without_gifts_and_of_stopped_monthly_giving(app):
    nothing = giving_figures.figures(factories.donor().id)
    assert nothing.years == [] and nothing.count == 0 and nothing.average_cents == 0
    assert nothing.first_gift_on is None and nothing.largest_cents == 0
    assert nothing.recurring_status is None and nothing.monthly_cents == 0

    stopped = factories.donor()
    monthly(stopped, factories.campaign(), 1_500, status=RecurringStatus.CANCELLED)
    figures = giving_figures.figures(stopped.id)
    assert (figures.recurring_status, figures.monthly_cents) == ("cancelled", 0)


def test_average_rounds_half_up_to_the_cent(app):
    donor, camp = factories.donor(), factories.campaign()
    for cents in (1_000, 1_000, 1_001, 1_000):
        gift(donor, camp, date(2024, 1, 1), cents)
    assert giving_figures.figures(donor.id).average_cents == 1_000  # 1000.25
    gift(donor, camp, date(2024, 1, 2), 1_001)
    gift(donor, camp, date(2024, 1, 3), 1_001)
    assert giving_figures.figures(donor.id).average_cents == 1_001  # 1000.5


def test_summaries_cover_only_the_asked_donors(app):
    camp = factories.campaign()
    a, b, c = factories.donor(), factories.donor(), factories.donor()
    gift(a, camp, date(2023, 1, 1), 1_000)
    gift(a, camp, date(2024, 2, 1), 2_500, refunded_cents=500)
    gift(b, camp, date(2024, 1, 1), 7_000)
    summaries = giving_figures.summaries([a.id, c.id])
    assert summaries == {a.id: giving_figures.Summary(3_000, 2, date(2024, 2, 1))}
    assert giving_figures.summaries([]) == {}


# Timeline


def test_timeline_merges_every_source_newest_first(app):
    donor = factories.donor(created_at=at(2020, 1, 1))
    camp = factories.campaign(title="Orti condivisi")
    staff = factories.user()
    first = gift(donor, camp, date(2021, 1, 1), 5_000, succeeded_at=at(2021, 1, 1))
    db.session.add(Refund(donation=first, amount_cents=1_000, created_at=at(2021, 2, 1)))
    plan = monthly(
        donor,
        camp,
        1_000,
        created_at=at(2021, 3, 1),
        status=RecurringStatus.CANCELLED,
        cancelled_at=at(2022, 3, 1),
    )
    db.session.add_all(
        [
            MailJob(kind="thank_you", donation_id=first.id, sent_at=at(2021, 1, 2)),
            MailJob(kind="portal_link", donor_id=donor.id, sent_at=at(2021, 4, 1)),
            MailJob(kind="newsletter_confirm", donor_id=donor.id),  # not sent: not shown
            ConsentEvent(
                donor_id=donor.id, action="granted", source="form", occurred_at=at(2021, 5, 1)
            ),
            DonorChange(
                donor_id=donor.id,
                field="phone",
                old_value="",
                new_value="0372 1",
                source="staff:a@example.org",
                changed_at=at(2021, 6, 1),
            ),
            Interaction(
                donor_id=donor.id,
                kind="call",
                occurred_on=date(2021, 7, 1),
                summary="Thanked",
                user=staff,
                created_at=at(2021, 7, 5),
            ),
            DonorMerge(
                survivor_id=donor.id,
                merged_donor_id=999,
                snapshot={"email": "old@example.org"},
                choices={},
                moved={},
                merged_at=at(2021, 8, 1),
            ),
        ]
    )
    db.session.commit()
    other = factories.donor()
    gift(other, camp, date(2023, 1, 1), 1_000)  # someone else's
    db.session.add(MailJob(kind="portal_link", donor_id=other.id, sent_at=at(2023, 1, 1)))
    db.session.commit()

    entries = timeline(donor)

    assert [(e.kind, e.at) for e in entries] == [
        ("monthly_stopped", at(2022, 3, 1)),
        ("merge", at(2021, 8, 1)),
        ("interaction", datetime(2021, 7, 1, 10, tzinfo=UTC)),  # noon in Rome
        ("change", at(2021, 6, 1)),
        ("consent", at(2021, 5, 1)),
        ("mail", at(2021, 4, 1)),
        ("monthly_started", at(2021, 3, 1)),
        ("refund", at(2021, 2, 1)),
        ("mail", at(2021, 1, 2)),
        ("gift", at(2021, 1, 1)),
        ("created", at(2020, 1, 1)),
    ]
    assert entries[0].row.id == plan.id
    assert [e.kind for e in timeline(donor, limit=3)] == ["monthly_stopped", "merge", "interaction"]


def test_record_page_shows_details_figures_and_timeline_in_rome_time(client, login):
    donor = factories.donor(
        first_name="Nicolò",
        last_name="Rossi",
        town="Cremona",
        codice_fiscale=CF,
        newsletter_consent=True,
    )
    camp = factories.campaign(title="Orti condivisi")
    gift(donor, camp, date(2024, 7, 1), 5_000, succeeded_at=at(2024, 7, 1, 22))
    login("staff")

    page = client.get(f"/staff/donors/{donor.id}")

    assert page.status_code == 200
    text = page.text
    assert "Nicolò Rossi" in text and CF in text and "Orti condivisi" in text
    assert "02/07/24, 00:00" in text  # 22:00 UTC is past midnight in Rome
    assert format_money(5_000, "EUR", "it_IT") in text
    assert f'action="/staff/donors/{donor.id}/interactions"' in text


# Search and list


def test_search_folds_accents_and_case_and_finds_emails_and_codes(client, login):
    nicolo = factories.donor(first_name="Nicolò", last_name="Rossi", codice_fiscale=CF)
    nicola = factories.donor(first_name="NICOLA", last_name="Bianchi", email="nb@example.org")
    org = factories.donor(kind="organisation", organisation_name="Cooperativa Società Aperta")
    db.session.add(DonorEmail(donor_id=nicola.id, email="nicola.lavoro@esempio.it"))
    erased = factories.donor(first_name="Nicolò", last_name="Dimenticato", erased_at=at(2024, 1, 1))
    db.session.commit()

    def found(q):
        return set(db.session.scalars(listing.matching(q)).all())

    assert found("nicolo") == {nicolo}
    assert found("NICOLÒ rossi") == {nicolo}
    assert found("società") == found("SOCIETA") == {org}
    assert found("nicola") == {nicola}  # by name and by a further address
    assert found("lavoro@esempio") == {nicola}
    assert found("NB@Example.org") == {nicola}
    assert found("rssmra 85t10") == {nicolo}
    assert found("dimenticato") == set()
    assert erased in found("")  # listed, kept with its gifts, but nameless
    assert found("100%_") == set()  # LIKE wildcards are taken literally

    login("staff")
    page = client.get("/staff/donors?q=nicolo")
    assert page.status_code == 200
    assert "Nicolò Rossi" in page.text and "Bianchi" not in page.text


def test_list_shows_page_figures_sorts_and_pages(client, login, monkeypatch):
    camp = factories.campaign()
    low = factories.donor(first_name="Anna", last_name="Alfa")
    high = factories.donor(first_name="Bruno", last_name="Beta")
    recent = factories.donor(first_name="Carla", last_name="Gamma")
    none = factories.donor(first_name="Dario", last_name="Delta")
    gift(low, camp, date(2022, 1, 1), 1_000)
    gift(high, camp, date(2023, 1, 1), 90_000)
    gift(high, camp, date(2023, 2, 1), 10_000)
    gift(recent, camp, date(2024, 5, 1), 2_000)

    def order(sort, q=""):
        stmt = listing.query(listing.Search(q=q, sort=sort))
        return db.session.scalars(stmt).all()

    assert order("name") == [low, high, recent, none]
    assert order("total") == [high, recent, low, none]
    assert order("last_gift") == [recent, high, low, none]
    assert order("total", q="a") == [high, recent, low, none]

    login("treasurer")
    page = client.get("/staff/donors?sort=total")
    assert page.status_code == 200
    text = page.text
    assert text.index("Bruno Beta") < text.index("Carla Gamma") < text.index("Anna Alfa")
    assert format_money(100_000, "EUR", "it_IT") in text  # Bruno's lifetime total

    monkeypatch.setattr("donors.views.PAGE_SIZE", 3)
    second = client.get("/staff/donors?page=2")
    assert "Dario Delta" in second.text and "Anna Alfa" not in second.text


# Creating and editing


def donor_form(**overrides) -> dict:
    return {
        "kind": "person",
        "first_name": "Giulia",
        "last_name": "Verdi",
        "organisation_name": "",
        "email": "Giulia.Verdi@Example.org",
        "phone": "0372 123456",
        "codice_fiscale": "",
        "partita_iva": "",
        "street": "Via Roma 1",
        "postal_code": "26100",
        "town": "Cremona",
        "province": "cr",
        "country": "IT",
        "language": "it",
        "tags": "",
        "notes": "",
        **overrides,
    }


def test_staff_adds_a_donor(client, login):
    user = login("staff")
    response = client.post(
        "/staff/donors/new", data=donor_form(tags="Volontari, cena 2024, volontari ")
    )
    assert response.status_code == 302
    donor = db.session.scalar(select(Donor))
    assert response.headers["Location"].endswith(f"/staff/donors/{donor.id}")
    assert (donor.email, donor.source, donor.source_detail) == (
        "giulia.verdi@example.org",
        "staff",
        user.email,
    )
    assert donor.province == "CR" and donor.name_key == "giulia verdi"
    assert [t.name for t in donor.tags] == ["Volontari", "cena 2024"]


def test_editing_records_history_with_the_staff_member(client, login):
    donor = factories.donor(first_name="Giulia", last_name="Verdi", phone="1")
    user = login("staff")
    in_english(client)
    response = client.post(
        f"/staff/donors/{donor.id}/edit",
        data=donor_form(
            email=donor.email,
            last_name="Verdi-Neri",
            phone="2",
            codice_fiscale=CF.lower(),
            partita_iva=PIVA,
            language="en",
        ),
    )
    assert response.status_code == 302, response.text
    db.session.refresh(donor)
    assert (donor.last_name, donor.codice_fiscale, donor.partita_iva) == ("Verdi-Neri", CF, PIVA)
    assert donor.name_key == "giulia verdi-neri"
    changes = {c.field: (c.old_value, c.new_value, c.source) for c in donor.changes}
    source = f"staff:{user.email}"
    assert changes["last_name"] == ("Verdi", "Verdi-Neri", source)
    assert changes["phone"] == ("1", "2", source)
    assert changes["codice_fiscale"] == ("", CF, source)
    assert changes["language"] == ("it", "en", source)
    assert "first_name" not in changes and "email" not in changes

    page = client.get(f"/staff/donors/{donor.id}")
    assert "Verdi-Neri" in page.text and source in page.text

    again = client.post(
        f"/staff/donors/{donor.id}/edit",
        data=donor_form(
            email=donor.email,
            last_name="Verdi-Neri",
            phone="2",
            codice_fiscale=CF,
            partita_iva=PIVA,
            language="en",
        ),
        follow_redirects=True,
    )
    assert "Nothing changed." in again.text
    assert db.session.scalar(select(func.count(DonorChange.id))) == len(changes)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("codice_fiscale", "RSSMRA85T10A562X", "This is not a valid codice fiscale."),
        ("partita_iva", "01234567890", "This is not a valid partita IVA."),
        ("email", "taken@example.org", "Another donor has this e-mail address."),
        ("email", "TAKEN.TOO@example.org", "Another donor has this e-mail address."),
        ("last_name", "", "A person needs a last name."),
    ],
)
def test_bad_details_rerender_with_a_message_and_change_nothing(
    client, login, field, value, message
):
    other = factories.donor(email="taken@example.org")
    db.session.add(DonorEmail(donor_id=other.id, email="taken.too@example.org"))
    db.session.commit()
    donor = factories.donor(first_name="Giulia", last_name="Verdi", phone="1")
    login("staff")
    in_english(client)

    response = client.post(
        f"/staff/donors/{donor.id}/edit",
        data=donor_form(**{"email": donor.email, "phone": "999", field: value}),
    )

    assert response.status_code == 422
    assert message in response.text
    assert 'value="999"' in response.text  # what was typed is kept
    db.session.refresh(donor)
    assert (donor.phone, donor.last_name) == ("1", "Verdi")
    assert db.session.scalar(select(func.count(DonorChange.id))) == 0

    created = client.post("/staff/donors/new", data=donor_form(**{field: value}))
    assert created.status_code == 422 and message in created.text
    assert db.session.scalar(select(func.count(Donor.id))) == 2


def test_further_emails_added_removed_and_swapped_with_the_primary(client, login):
    donor = factories.donor(email="main@example.org")
    factories.donor(email="other@example.org")
    login("staff")
    in_english(client)

    added = client.post(
        f"/staff/donors/{donor.id}/emails", data={"extra-email": "Second@Example.org"}
    )
    assert added.status_code == 302
    assert [e.email for e in db.session.get(Donor, donor.id).emails] == ["second@example.org"]

    for taken, message in (
        ("other@example.org", "Another donor has this e-mail address."),
        ("MAIN@example.org", "The donor already has this e-mail address."),
        ("second@example.org", "The donor already has this e-mail address."),
    ):
        refused = client.post(f"/staff/donors/{donor.id}/emails", data={"extra-email": taken})
        assert refused.status_code == 422 and message in refused.text

    swapped = client.post(
        f"/staff/donors/{donor.id}/edit",
        data=donor_form(first_name="Maria", last_name=donor.last_name, email="second@example.org"),
    )
    assert swapped.status_code == 302
    donor = db.session.get(Donor, donor.id)
    assert donor.email == "second@example.org"
    assert [e.email for e in donor.emails] == ["main@example.org"]

    removed = client.post(f"/staff/donors/{donor.id}/emails/{donor.emails[0].id}/remove")
    assert removed.status_code == 302
    donor = db.session.get(Donor, donor.id)
    assert donor.emails == []
    assert [(c.field, c.old_value, c.new_value) for c in donor.changes if c.field == "emails"] == [
        ("emails", "", "second@example.org"),
        ("emails", "main@example.org", ""),
    ]


def test_interactions_and_tags(client, login):
    donor = factories.donor(first_name="Giulia", last_name="Verdi")
    another = factories.donor(first_name="Paolo", last_name="Neri")
    login("staff")

    recorded = client.post(
        f"/staff/donors/{donor.id}/interactions",
        data={
            "interaction-kind": "meeting",
            "interaction-occurred_on": "2024-03-02",
            "interaction-summary": "Visited the garden",
        },
    )
    assert recorded.status_code == 302
    row = db.session.scalar(select(Interaction))
    assert (row.kind, row.occurred_on, row.summary) == (
        "meeting",
        date(2024, 3, 2),
        "Visited the garden",
    )
    assert "Visited the garden" in client.get(f"/staff/donors/{donor.id}").text

    missing = client.post(
        f"/staff/donors/{donor.id}/interactions",
        data={"interaction-kind": "call", "interaction-occurred_on": "", "interaction-summary": ""},
    )
    assert missing.status_code == 422
    assert db.session.scalar(select(func.count(Interaction.id))) == 1

    def tag(who, text):
        data = donor_form(
            first_name=who.first_name,
            last_name=who.last_name,
            email=who.email,
            phone="",
            tags=text,
            street="",
            postal_code="",
            town="",
            province="",
        )
        assert client.post(f"/staff/donors/{who.id}/edit", data=data).status_code == 302

    tag(donor, "Volontari, Cena 2024")
    tag(another, "VOLONTARI")
    tag(donor, "cena 2024")
    assert sorted(db.session.scalars(select(Tag.name))) == ["Cena 2024", "Volontari"]
    assert [t.name for t in db.session.get(Donor, another.id).tags] == ["Volontari"]
    assert [t.name for t in db.session.get(Donor, donor.id).tags] == ["Cena 2024"]
    history = [
        (c.old_value, c.new_value)
        for c in db.session.get(Donor, donor.id).changes
        if c.field == "tags"
    ]
    assert history == [("", "Cena 2024, Volontari"), ("Cena 2024, Volontari", "Cena 2024")]


def test_a_forgotten_donor_cannot_be_changed(client, login):
    donor = factories.donor(erased_at=at(2024, 1, 1))
    login("staff")
    in_english(client)
    page = client.get(f"/staff/donors/{donor.id}")
    assert page.status_code == 200
    assert f"/staff/donors/{donor.id}/edit" not in page.text and "/interactions" not in page.text
    edited = client.post(f"/staff/donors/{donor.id}/edit", data=donor_form(email=donor.email))
    assert edited.status_code == 422 and "This donor was forgotten" in edited.text
    noted = client.post(
        f"/staff/donors/{donor.id}/interactions",
        data={
            "interaction-kind": "call",
            "interaction-occurred_on": "2024-03-02",
            "interaction-summary": "x",
        },
    )
    assert noted.status_code == 422
    assert db.session.scalar(select(func.count(DonorChange.id))) == 0
    assert db.session.scalar(select(func.count(Interaction.id))) == 0


# Roles


def test_anonymous_goes_to_login_and_treasurer_reads_but_does_not_write(client, login):
    donor = factories.donor()
    for url in ("/staff/donors", f"/staff/donors/{donor.id}", "/staff/donors/new"):
        response = client.get(url)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]

    login("treasurer")
    listing_page = client.get("/staff/donors")
    assert listing_page.status_code == 200
    assert "/staff/donors/new" not in listing_page.text
    record = client.get(f"/staff/donors/{donor.id}")
    assert record.status_code == 200 and "/interactions" not in record.text
    assert client.get("/staff/donors/new").status_code == 403
    assert client.get(f"/staff/donors/{donor.id}/edit").status_code == 403
    assert client.post(f"/staff/donors/{donor.id}/edit", data=donor_form()).status_code == 403
    assert (
        client.post(
            f"/staff/donors/{donor.id}/interactions",
            data={"interaction-kind": "call", "interaction-summary": "x"},
        ).status_code
        == 403
    )
    assert client.get("/staff/donors/999999").status_code == 404


def test_staff_menu_has_donors(client, login):
    login("staff")
    page = client.get("/staff/donors")
    assert 'href="/staff/donors" aria-current="page">' in page.text
