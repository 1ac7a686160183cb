"""Segments: each criterion against a brute-force Python filter on generated donors and gifts,
LYBUNT and SYBUNT on a hand-made history, validation, and the segment builder's pages."""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from donors import segments
from donors.giving_figures import rebuild_for
from donors.models import Donor, Segment, Tag, fold
from legami.extensions import db
from legami.validation import Invalid
from payments.models import Donation, Method, RecurringGift, RecurringStatus, Status
from tests import factories
from tests.conftest import browser_log_in

# Each example builds its donors inside the test's transaction and rolls them back, so the
# function-scoped fixtures (the app, the committed campaigns) are the same for every example.
EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

TOWNS = ["Cremona", "CREMONA", "Crémona", "cremona ", "Crema", "Soresina", "Nicolò", ""]
SEARCH_TOWNS = ["cremona", "CRÈMONA", "Crema", "soresina", "NICOLO", "Milano"]
LANGUAGES = ["it", "en", "de"]
FIRST_DAY, LAST_DAY = date(2023, 1, 1), date(2026, 12, 31)


@dataclass
class Catalogue:
    """Committed once per test: what gifts go to."""

    campaigns: list[int]
    organisation_of: dict[int, int]
    pacts_of: dict[int, set[int]]
    labs_of: dict[int, set[int]]
    organisations: list[int]
    pacts: list[int]
    labs: list[int]
    tags: list[int]


@pytest.fixture
def catalogue(app) -> Catalogue:
    orgs = [factories.organisation(), factories.organisation()]
    pacts = [factories.pact(), factories.pact()]
    labs = [factories.lab(), factories.lab()]
    camps = [
        factories.campaign(organisation=orgs[0], pacts=[pacts[0]]),
        factories.campaign(organisation=orgs[0], pacts=[pacts[0], pacts[1]], labs=[labs[0]]),
        factories.campaign(organisation=orgs[1], labs=[labs[1]]),
        factories.campaign(organisation=orgs[1]),
    ]
    tags = [Tag(name=name) for name in ("volunteer", "board", "2024 dinner")]
    db.session.add_all(tags)
    db.session.commit()
    return Catalogue(
        campaigns=[c.id for c in camps],
        organisation_of={c.id: c.organisation_id for c in camps},
        pacts_of={c.id: {p.id for p in c.pacts} for c in camps},
        labs_of={c.id: {lab.id for lab in c.labs} for c in camps},
        organisations=[o.id for o in orgs],
        pacts=[p.id for p in pacts],
        labs=[lab.id for lab in labs],
        tags=[t.id for t in tags],
    )


# --- generated donors and the brute-force filter --------------------------------------------


@dataclass
class Gift:
    campaign: int  # index into the catalogue's campaigns
    day: date
    cents: int
    refund_percent: int
    status: str

    @property
    def refunded_cents(self) -> int:
        return self.cents * self.refund_percent // 100


@dataclass
class Person:
    tags: set[int]  # indices into the catalogue's tags
    town: str
    language: str
    consent: bool
    erased: bool
    recurring: list[str]
    gifts: list[Gift]
    id: int = field(default=0)


# Any day, often the first or last of a year: where off-by-one mistakes live.
days = st.one_of(
    st.dates(min_value=FIRST_DAY, max_value=LAST_DAY),
    st.sampled_from(
        [date(y, 1, 1) for y in range(2023, 2027)] + [date(y, 12, 31) for y in range(2023, 2027)]
    ),
)
gifts = st.builds(
    Gift,
    campaign=st.integers(0, 3),
    day=days,
    cents=st.integers(1, 30_000),
    refund_percent=st.sampled_from([0, 0, 0, 50, 100]),
    status=st.sampled_from([Status.SUCCEEDED] * 4 + [Status.PENDING, Status.FAILED]),
)
people = st.lists(
    st.builds(
        Person,
        tags=st.sets(st.integers(0, 2), max_size=2),
        town=st.sampled_from(TOWNS),
        language=st.sampled_from(LANGUAGES),
        consent=st.booleans(),
        erased=st.sampled_from([False, False, False, True]),
        recurring=st.lists(st.sampled_from(list(RecurringStatus)), max_size=2),
        gifts=st.lists(gifts, max_size=6),
    ),
    min_size=5,
    max_size=25,
)


def insert(people: list[Person], cat: Catalogue) -> None:
    """The people as donors with their gifts and monthly gifts, flushed, not committed."""
    tags = [db.session.get(Tag, tag_id) for tag_id in cat.tags]
    for n, person in enumerate(people):
        donor = Donor(
            email=f"person{n}@example.org",
            first_name="Anna",
            last_name=f"Person {n}",
            town=person.town,
            language=person.language,
            newsletter_consent=person.consent,
            erased_at=datetime(2026, 1, 1, tzinfo=UTC) if person.erased else None,
            tags=[tags[i] for i in sorted(person.tags)],
        )
        db.session.add(donor)
        db.session.flush()
        person.id = donor.id
        for g in person.gifts:
            campaign = cat.campaigns[g.campaign]
            db.session.add(
                Donation(
                    donor_id=donor.id,
                    campaign_id=campaign,
                    organisation_id=cat.organisation_of[campaign],
                    amount_cents=g.cents,
                    refunded_cents=g.refunded_cents,
                    method=Method.CARD,
                    status=g.status,
                    received_on=g.day,
                )
            )
        for status in person.recurring:
            db.session.add(
                RecurringGift(
                    donor_id=donor.id,
                    campaign_id=cat.campaigns[0],
                    amount_cents=1000,
                    status=status,
                )
            )
    db.session.flush()
    for person in people:
        rebuild_for(person.id)  # the per-year totals, as payments keeps them


def in_years(gifts: list[Gift], parts: dict) -> list[Gift]:
    low, high = parts.get("year_from", 0), parts.get("year_to", 9999)
    return [g for g in gifts if low <= g.day.year <= high]


def between(value, low, high) -> bool:
    return (low is None or low <= value) and (high is None or value <= high)


def matches(person: Person, definition: dict, cat: Catalogue) -> bool:
    """The brute-force reading of a definition, one donor at a time."""
    if person.erased:
        return False
    kept = [g for g in person.gifts if g.status == Status.SUCCEEDED]
    to = [cat.campaigns[g.campaign] for g in kept]
    years = {g.day.year for g in kept}
    checks = {
        "tags": lambda ids: any(cat.tags[i] in ids for i in person.tags),
        "campaigns": lambda ids: any(c in ids for c in to),
        "pacts": lambda ids: any(cat.pacts_of[c] & set(ids) for c in to),
        "labs": lambda ids: any(cat.labs_of[c] & set(ids) for c in to),
        "organisations": lambda ids: any(cat.organisation_of[c] in ids for c in to),
        "first_gift": lambda r: (
            bool(kept) and between(min(g.day for g in kept).isoformat(), r.get("from"), r.get("to"))
        ),
        "last_gift": lambda r: (
            bool(kept) and between(max(g.day for g in kept).isoformat(), r.get("from"), r.get("to"))
        ),
        "total": lambda p: between(
            sum(g.cents - g.refunded_cents for g in in_years(kept, p)),
            p.get("min_cents"),
            p.get("max_cents"),
        ),
        "gifts": lambda p: between(len(in_years(kept, p)), p.get("min"), p.get("max")),
        "monthly": lambda yes: (RecurringStatus.ACTIVE in person.recurring) == yes,
        "lybunt": lambda y: y - 1 in years and y not in years,
        "sybunt": lambda y: any(year < y for year in years) and y not in years,
        "newsletter_consent": lambda yes: person.consent == yes,
        "languages": lambda codes: person.language in codes,
        "towns": lambda names: fold(person.town) in {fold(t) for t in names},
        # These people open no fundraising pages (soft credits are checked against real
        # pages in tests/payments/test_fundraising_pages_crm.py).
        "fundraiser": lambda yes: not yes,
        "raised_through_pages": lambda parts: False,
        "gave_through_page_of": lambda ids: False,
    }
    return all(checks[key](value) for key, value in definition.items())


def iso(day: date) -> str:
    return day.isoformat()


@st.composite
def date_ranges(draw) -> dict:
    bounds = draw(st.fixed_dictionaries({}, optional={"from": days, "to": days}).filter(bool))
    if len(bounds) == 2 and bounds["from"] > bounds["to"]:
        bounds["from"], bounds["to"] = bounds["to"], bounds["from"]
    return {k: iso(v) for k, v in bounds.items()}


@st.composite
def aggregates(draw, low: str, high: str, amounts) -> dict:
    parts = draw(
        st.fixed_dictionaries(
            {},
            optional={
                low: amounts,
                high: amounts,
                "year_from": st.integers(2022, 2027),
                "year_to": st.integers(2022, 2027),
            },
        ).filter(lambda p: low in p or high in p)
    )
    for a, b in ((low, high), ("year_from", "year_to")):
        if a in parts and b in parts and parts[a] > parts[b]:
            parts[a], parts[b] = parts[b], parts[a]
    return parts


def criteria(cat: Catalogue) -> dict:
    def some(ids):
        return st.lists(st.sampled_from(ids), min_size=1, max_size=2, unique=True)

    return {
        "tags": some(cat.tags),
        "campaigns": some(cat.campaigns),
        "pacts": some(cat.pacts),
        "labs": some(cat.labs),
        "organisations": some(cat.organisations),
        "first_gift": date_ranges(),
        "last_gift": date_ranges(),
        "total": aggregates("min_cents", "max_cents", st.integers(0, 60_000)),
        "gifts": aggregates("min", "max", st.integers(0, 5)),
        "monthly": st.booleans(),
        "lybunt": st.integers(2023, 2027),
        "sybunt": st.integers(2023, 2027),
        "newsletter_consent": st.booleans(),
        "languages": st.lists(st.sampled_from([*LANGUAGES, "fr"]), min_size=1, unique=True),
        "towns": st.lists(st.sampled_from(SEARCH_TOWNS), min_size=1, max_size=2, unique=True),
        "fundraiser": st.booleans(),
        "raised_through_pages": st.builds(dict, min_cents=st.integers(1, 60_000)),
        "gave_through_page_of": st.lists(st.integers(1, 1_000), min_size=1, max_size=2),
    }


def sql_ids(definition: dict) -> set[int]:
    return {d.id for d in db.session.scalars(segments.compile(definition))}


@EXAMPLES
@given(people=people, data=st.data())
def test_each_criterion_alone_and_together_matches_the_brute_force(catalogue, people, data):
    assert set(criteria(catalogue)) == set(segments.CRITERIA)
    try:
        insert(people, catalogue)
        strategies = criteria(catalogue)
        alone = {key: data.draw(strategy, label=key) for key, strategy in strategies.items()}
        keys = data.draw(st.sets(st.sampled_from(sorted(alone)), min_size=2, max_size=4))
        together = {key: alone[key] for key in keys}
        for definition in [*({key: value} for key, value in alone.items()), together, {}]:
            expected = {p.id for p in people if matches(p, definition, catalogue)}
            assert sql_ids(definition) == expected, definition
            assert segments.count(definition) == len(expected), definition
            ids = db.session.scalars(segments.donor_ids(Segment(definition=definition)))
            assert set(ids) == expected, definition
        everyone = segments.page(together, 1, 100)
        assert {d.id for d in everyone.items} == sql_ids(together)
        assert everyone.total == len(everyone.items)
    finally:
        db.session.rollback()


def test_the_page_lists_donors_by_name_and_counts_them_all(app):
    camp = factories.campaign()
    for name in ("Verdi", "Bianchi", "Rossi", "Neri", "Azzurri"):
        factories.donation(donor=factories.donor(last_name=name), campaign=camp)
    factories.donor(last_name="Nessuno")  # gave nothing
    definition = {"campaigns": [camp.id]}
    first, last = segments.page(definition, 1, 2), segments.page(definition, 3, 2)
    assert [d.last_name for d in first.items] == ["Azzurri", "Bianchi"]
    assert (first.total, first.pages, first.has_prev, first.has_next) == (5, 3, False, True)
    assert [d.last_name for d in last.items] == ["Verdi"]
    assert (last.has_prev, last.has_next) == (True, False)
    beyond = segments.page(definition, 9, 2)
    assert (beyond.items, beyond.total) == ([], 5)
    assert segments.page({"campaigns": [camp.id + 99]}, 1, 2).total == 0


# --- LYBUNT and SYBUNT on a hand-made history -----------------------------------------------


def test_lybunt_and_sybunt_on_a_hand_made_history(app):
    camp = factories.campaign()

    def donor_giving(name, *gifts):
        donor = factories.donor(last_name=name)
        for day, status in gifts:
            factories.donation(donor=donor, campaign=camp, received_on=day, status=status)
        return donor

    ok = Status.SUCCEEDED
    every_year = donor_giving("Every year", (date(2024, 5, 1), ok), (date(2025, 5, 1), ok))
    last_year = donor_giving("Last year only", (date(2024, 12, 31), ok))
    long_ago = donor_giving("Long ago", (date(2021, 3, 3), ok))
    this_year = donor_giving("This year only", (date(2025, 1, 1), ok))
    came_back = donor_giving("Came back next year", (date(2024, 2, 2), ok), (date(2026, 2, 2), ok))
    failed = donor_giving("Last year failed", (date(2024, 6, 6), Status.FAILED))
    refunded = donor_giving("Last year refunded", (date(2024, 6, 6), Status.REFUNDED))
    pending_now = donor_giving(
        "Pending this year", (date(2024, 6, 6), ok), (date(2025, 6, 6), Status.PENDING)
    )
    forgotten = donor_giving("Forgotten", (date(2024, 6, 6), ok))
    forgotten.erased_at = datetime(2025, 9, 1, tzinfo=UTC)
    db.session.commit()
    factories.donor(last_name="Never gave")

    def names(definition):
        return {d.last_name for d in db.session.scalars(segments.compile(definition))}

    lybunt = {last_year, came_back, pending_now}
    assert names({"lybunt": 2025}) == {d.last_name for d in lybunt}
    sybunt = lybunt | {long_ago}
    assert names({"sybunt": 2025}) == {d.last_name for d in sybunt}
    assert names({"lybunt": 2026}) == {every_year.last_name, this_year.last_name}
    assert names({"sybunt": 2022}) == {long_ago.last_name}
    assert names({"lybunt": 2022}) == {long_ago.last_name}
    assert not names({"lybunt": 2024}) & {failed.last_name, refunded.last_name}


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "fields"),
    [
        ([], {"definition"}),
        ({"colour": "red"}, {"definition"}),
        ({"tags": "volunteer"}, {"tags"}),
        ({"tags": [1, "2"]}, {"tags"}),
        ({"campaigns": [0]}, {"campaigns"}),
        ({"pacts": [True]}, {"pacts"}),
        ({"first_gift": "2024"}, {"first_gift"}),
        ({"first_gift": {"from": "2024-02-30"}}, {"first_gift.from"}),
        ({"last_gift": {"from": "2024-05-01", "to": "2024-04-01"}}, {"last_gift.to"}),
        ({"last_gift": {"since": "2024-05-01"}}, {"last_gift"}),
        ({"total": {"year_from": 2024}}, {"total"}),
        ({"total": {"min_cents": -1}}, {"total.min_cents"}),
        ({"total": {"min_cents": 10.5}}, {"total.min_cents"}),
        ({"total": {"min_cents": 500, "max_cents": 100}}, {"total.max_cents"}),
        ({"total": {"min_cents": 1, "year_from": 2025, "year_to": 2024}}, {"total.year_to"}),
        ({"gifts": {"max": 3, "year_to": 1066}}, {"gifts.year_to"}),
        ({"monthly": "yes"}, {"monthly"}),
        ({"lybunt": "2025"}, {"lybunt"}),
        ({"sybunt": 3000}, {"sybunt"}),
        ({"newsletter_consent": 1}, {"newsletter_consent"}),
        ({"languages": "it"}, {"languages"}),
        ({"towns": ["x" * 101]}, {"towns"}),
        ({"tags": "x", "monthly": 2}, {"tags", "monthly"}),
    ],
)
def test_bad_definitions_name_what_is_wrong(app, definition, fields):
    with pytest.raises(segments.InvalidDefinition) as caught:
        segments.compile(definition)
    assert set(caught.value.errors) == fields
    with app.test_request_context():
        assert all(str(message) for message in caught.value.errors.values())


def test_definitions_are_stored_in_canonical_form(app):
    assert segments.validate(
        {
            "tags": [3, 1, 3],
            "campaigns": [],
            "first_gift": {"from": None, "to": None},
            "total": {"min_cents": 0, "year_from": 2024},
            "gifts": {"min": 0, "max": 4},
            "towns": [" Cremona ", "", "Crema"],
            "monthly": False,
            "lybunt": None,
        }
    ) == {
        "tags": [1, 3],
        "gifts": {"max": 4},
        "monthly": False,
        "towns": ["Crema", "Cremona"],
    }


def test_an_empty_segment_is_every_donor_not_forgotten(app):
    kept = factories.donor()
    factories.donor(erased_at=datetime(2025, 1, 1, tzinfo=UTC))
    assert segments.count({}) == 1
    assert list(db.session.scalars(segments.donor_ids(Segment(definition={})))) == [kept.id]


def test_a_town_nobody_lives_in_matches_nobody(app):
    factories.donor(town="Cremona")
    assert segments.count({"towns": ["Atlantide"]}) == 0
    assert segments.count({"towns": ["CREMONA"]}) == 1


# --- saved segments -------------------------------------------------------------------------


def test_save_checks_the_name_and_the_definition_and_stores_nothing_when_bad(app):
    user = factories.user()
    saved = segments.save(None, " Lapsed ", "", {"lybunt": 2025}, user)
    assert (saved.name, saved.definition, saved.created_by_id) == (
        "Lapsed",
        {"lybunt": 2025},
        user.id,
    )
    with pytest.raises(Invalid) as caught:
        segments.save(None, "Lapsed", "x" * 501, {"lybunt": "x"}, user)
    assert set(caught.value.errors) == {"name", "description", "lybunt"}
    db.session.rollback()
    with pytest.raises(Invalid) as caught:
        segments.save(None, "  ", "", {}, user)
    assert set(caught.value.errors) == {"name"}
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Segment)) == 1
    segments.save(saved, "Lapsed", "Gave last year", {}, user)
    assert (saved.description, saved.definition) == ("Gave last year", {})


# --- the segment builder --------------------------------------------------------------------


def criteria_form(**values) -> dict:
    return {"name": "", "description": "", **values}


@pytest.fixture
def staff(client, login):
    """A staff member logged in, reading the back office in English."""
    user = login("staff")
    with client.session_transaction() as session:
        session["lang"] = "en"
    return user


def test_staff_build_a_segment_count_it_save_it_and_see_its_donors(client, staff):
    camp = factories.campaign(title="Orti condivisi")
    tag = Tag(name="volontari")
    db.session.add(tag)
    db.session.commit()
    anna = factories.donor(first_name="Anna", last_name="Bruni", town="Crémona", tags=[tag])
    factories.donation(donor=anna, campaign=camp, amount_cents=12_000)
    factories.donation(donor=factories.donor(town="Crema"), campaign=camp)
    factories.donor(town="CREMONA")  # gave nothing

    page = client.get("/staff/segments/new")
    assert page.status_code == 200
    assert "Orti condivisi" in page.text and "volontari" in page.text
    assert "js/live-count.js" in page.text

    # Without JS: the Count button re-renders the form with the count.
    counted = client.post("/staff/segments/new", data=criteria_form(towns="cremona", count="Count"))
    assert counted.status_code == 200
    assert "2 donors match." in counted.text
    assert db.session.scalar(select(func.count()).select_from(Segment)) == 0

    # With JS: the live count.
    live = client.post(
        "/staff/segments/count", data=criteria_form(towns="cremona", campaigns=str(camp.id))
    )
    assert live.json == {"count": 1, "text": "1 donor matches."}

    saved = client.post(
        "/staff/segments/new",
        data=criteria_form(
            name="Cremona givers",
            towns="cremona",
            campaigns=str(camp.id),
            total_min="100",
            tags=str(tag.id),
            save="Save",
        ),
    )
    assert saved.status_code == 302
    segment = db.session.scalar(select(Segment))
    assert segment.definition == {
        "campaigns": [camp.id],
        "tags": [tag.id],
        "total": {"min_cents": 10_000},
        "towns": ["cremona"],
    }
    shown = client.get(saved.headers["Location"])
    assert "Cremona givers" in shown.text and "Anna Bruni" in shown.text
    assert "1 donor matches now." in shown.text
    assert f"/staff/donors/export.csv?segment={segment.id}" in shown.text
    assert f"/staff/donors/export.xlsx?segment={segment.id}" in shown.text
    assert "Cremona givers" in client.get("/staff/segments").text


def test_editing_a_segment_shows_its_criteria_and_keeps_changes(client, staff):
    segment = segments.save(
        None,
        "Big givers",
        "",
        {"total": {"min_cents": 250_050, "year_from": 2024}, "first_gift": {"from": "2020-01-31"}},
        None,
    )
    form = client.get(f"/staff/segments/{segment.id}/edit").text
    assert re.search(r'name="total_min"[^>]*value="2.500,50"', form)
    assert re.search(r'name="total_year_from"[^>]*value="2024"', form)
    assert re.search(r'name="first_gift_from"[^>]*value="2020-01-31"', form)
    changed = client.post(
        f"/staff/segments/{segment.id}/edit",
        data=criteria_form(name="Big givers", monthly="yes", save="Save"),
    )
    assert changed.status_code == 302
    db.session.refresh(segment)
    assert segment.definition == {"monthly": True}


def test_bad_criteria_are_shown_beside_their_fields(client, staff):
    dates = criteria_form(
        name="Muddled", last_gift_from="2025-05-01", last_gift_to="2025-01-01", save="Save"
    )
    response = client.post("/staff/segments/new", data=dates)
    assert response.status_code == 422
    assert "The end comes before the start." in response.text
    amount = client.post("/staff/segments/new", data=criteria_form(name="M", total_min="lots"))
    assert amount.status_code == 422
    assert "Write an amount in euros" in amount.text
    assert db.session.scalar(select(func.count()).select_from(Segment)) == 0
    live = client.post("/staff/segments/count", data=criteria_form(gifts_min="-1"))
    assert live.status_code == 422
    assert set(live.json["errors"]) == {"gifts_min"}
    missing_name = client.post("/staff/segments/new", data=criteria_form(save="Save"))
    assert missing_name.status_code == 422
    assert "Give the segment a name." in missing_name.text


def test_a_segment_is_deleted(client, staff):
    segment_id = segments.save(None, "Old", "", {}, None).id
    response = client.post(f"/staff/segments/{segment_id}/delete")
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Segment)) == 0
    assert client.get(f"/staff/segments/{segment_id}").status_code == 404


def test_the_segment_builder_is_for_staff(client, login):
    segment = segments.save(None, "Any", "", {}, None)
    assert client.get("/staff/segments").status_code == 302
    login("treasurer")
    for url in ("/staff/segments", "/staff/segments/new", f"/staff/segments/{segment.id}"):
        assert client.get(url).status_code == 403
    assert client.post("/staff/segments/count", data={}).status_code == 403


@pytest.mark.browser
def test_the_live_count_follows_the_criteria_in_a_browser(live_server, page):
    """The count updates as criteria change (JS posts the form with its CSRF token)."""
    with live_server.app.app_context():
        email = factories.user(roles=("staff",), password="correct horse battery").email
        tag = Tag(name="volontari")
        db.session.add(tag)
        db.session.commit()
        tag_id = tag.id
        factories.donor(town="Cremona", tags=[tag])
        factories.donor(town="CRÉMONA")
        factories.donor(town="Crema")
    base = live_server.url
    browser_log_in(page, base, email, "correct horse battery")
    page.goto(f"{base}/staff/segments/new")

    def shows(number: int) -> None:
        page.wait_for_function(
            "n => (document.getElementById('segment-count').textContent.match(/\\d+/) || [])[0]"
            " === String(n)",
            arg=number,
        )

    shows(3)
    page.fill("#towns", "cremona")
    shows(2)
    page.check(f'input[name=tags][value="{tag_id}"]')
    shows(1)
    page.fill("#name", "Volontari a Cremona")
    with page.expect_navigation():
        page.click("#save")
    assert "/staff/segments/" in page.url
    with live_server.app.app_context():
        saved = db.session.scalar(select(Segment))
        assert saved.definition == {"tags": [tag_id], "towns": ["cremona"]}
