"""The back office of the ledger: the treasurer records an expense with its document (checked
by its bytes, kept out of the public uploads), only an admin other than the recorder approves,
corrections by reversing entries, outcomes recorded per pact and lab, and the report-back
newsletter draft made from a campaign's ledger."""

import io
import re
from datetime import date

from sqlalchemy import select

from donors import consent
from legami.extensions import db
from mailing import audience, compose, newsletters
from mailing.models import Delivery, Newsletter
from payments import plan
from payments.ledger_models import Expense
from tests import factories
from tests.payments.ledger_helpers import approved, expense, funded_pact, outcome
from tests.payments.matching import transfer

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _form(campaign, pact, **overrides):
    return {
        "campaign_id": campaign.id,
        "programme": f"pact:{pact.id}",
        "spent_on": date.today().isoformat(),
        "payee": "Cartoleria Rossi",
        "category": "materials",
        "description": "Quaderni per il doposcuola",
        "amount": "84,20",
        **overrides,
    }


def test_treasurer_records_admin_approves_and_the_document_stays_private(app, client, login):
    pact, campaign = funded_pact(10_000)
    login("treasurer")
    form = _form(campaign, pact, document=(io.BytesIO(PDF), "fattura.pdf"))
    response = client.post(
        "/staff/fondi/spese/nuova", data=form, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    row = db.session.scalar(select(Expense))
    assert (row.amount_cents, row.pact_id, row.approved) == (8_420, pact.id, False)
    assert row.document.endswith(".pdf")
    download = client.get(f"/staff/fondi/spese/{row.id}/documento")
    assert download.data == PDF and download.mimetype == "application/pdf"
    assert client.get(f"/uploads/{row.document}").status_code == 404
    # The treasurer cannot approve (admins only), nor could the recorder as admin.
    assert client.post(f"/staff/fondi/spese/{row.id}/approva").status_code == 403
    client.post("/staff/logout")
    login("admin")
    page = client.get(f"/staff/fondi/spese/{row.id}?lang=en").text
    assert "Waiting for approval" in page and "Approve and publish" in page
    assert client.post(f"/staff/fondi/spese/{row.id}/approva").status_code == 302
    db.session.expire_all()
    assert db.session.get(Expense, row.id).approved
    assert "Quaderni per il doposcuola" in client.get(f"/fondi/patti/{pact.slug}").text


def test_bad_input_re_renders_the_form_and_stores_nothing(client, login, english):
    pact, campaign = funded_pact()
    login("treasurer")
    cases = [
        ({"amount": "-3"}, "cannot be negative"),
        ({"amount": "12.345,678"}, "at most two decimals"),
        ({"payee": ""}, "This field is required"),
        ({"programme": "pact:999999"}, "Not a valid choice"),
        ({"document": (io.BytesIO(b"MZ\x90 not an invoice"), "f.pdf")}, "PDF, PNG or JPEG"),
    ]
    for overrides, message in cases:
        response = client.post(
            "/staff/fondi/spese/nuova",
            data=_form(campaign, pact, **overrides),
            content_type="multipart/form-data",
        )
        assert response.status_code == 422, overrides
        assert message in response.text, (overrides, message)
    assert db.session.scalar(select(Expense.id)) is None
    other = factories.campaign()
    response = client.post("/staff/fondi/spese/nuova", data=_form(other, pact))
    assert response.status_code == 422
    assert "This campaign does not fund the chosen pact or lab." in response.text


def test_reversal_through_the_back_office(client, login, english):
    pact, campaign = funded_pact(10_000)
    recorder, admin = factories.user(roles=("treasurer",)), factories.user(roles=("admin",))
    with client.application.test_request_context():
        row = approved(campaign, 5_000, recorder, admin, pact=pact)
    login("treasurer")
    url = f"/staff/fondi/spese/{row.id}/storna"
    assert client.post(url, data={"reason": ""}).status_code == 422
    response = client.post(url, data={"reason": "Doppia"})
    assert response.status_code == 302
    reversal = db.session.scalar(select(Expense).where(Expense.reverses_id == row.id))
    assert reversal.amount_cents == -5_000 and not reversal.approved
    again = client.post(url, data={"reason": "Ancora"})
    assert again.status_code == 422 and "reversed already" in again.text


def test_outcomes_are_recorded_for_a_pact_with_kinds_that_fit(client, login, english):
    pact, _campaign = funded_pact()
    login("staff")
    url = f"/staff/restituzione/patti/{pact.id}"
    ok = {"happened_on": date.today().isoformat(), "kind": "skill", "quantity": "2"}
    response = client.post(url, data={**ok, "description": "Lezioni di cucito"})
    assert response.status_code == 302
    bad = client.post(url, data={**ok, "kind": "meeting", "description": "x"})
    assert bad.status_code == 422
    zero = client.post(url, data={**ok, "quantity": "0", "description": "x"})
    assert zero.status_code == 422
    page = client.get(f"/fondi/patti/{pact.slug}?lang=en").text
    assert "2 skill sessions shared" in page and "Lezioni di cucito" in page
    assert client.get("/staff/restituzione/altro/1").status_code == 404


def test_report_back_draft_from_the_ledger_goes_out_under_the_report_back_rule(client, login):
    organisation = factories.organisation(report_back_enabled=True)
    pact, campaign = funded_pact(25_000, organisation=organisation)
    recorder, admin = factories.user(roles=("treasurer",)), factories.user(roles=("admin",))
    with client.application.test_request_context():
        approved(campaign, 7_500, recorder, admin, pact=pact, category="travel")
        outcome(pact=pact, kind="hours", quantity=9)
    reader = factories.donor(newsletter_consent=False)  # no newsletter consent: still a reader
    transfer(campaign, 1_000, donor=reader)
    transfer(campaign, 1_000, donor=factories.donor(report_back_opt_out=True))
    transfer(factories.campaign(), 1_000, donor=factories.donor(newsletter_consent=True))
    login("staff")
    response = client.post(f"/staff/newsletters/report-back/{campaign.id}")
    assert response.status_code == 302
    newsletter = db.session.scalar(select(Newsletter))
    versions = {v.language: v for v in newsletter.versions}
    english = versions["en"].body
    assert "raised €270 from 3 gifts" in english
    assert "Travel: €75" in english and "9 hours of volunteering" in english
    assert f"[[campaign:{campaign.slug}]]" in english
    assert versions["it"].subject and versions["it"].body
    assert newsletter.report_back_campaign_id == campaign.id and newsletter.segments == []
    # The funded_pact gift's donor and the reader; not the one who opted out, nor others.
    with client.application.test_request_context():
        assert audience.count(newsletter) == 2
        assert audience.freeze(newsletter) == 2
        db.session.commit()
        emails = set(db.session.scalars(select(Delivery.email)))
        assert reader.email in emails
        rendered = compose.prepare(newsletter).render(
            newsletters.TestRecipient(1, reader.id, reader.email, "", "it")
        )
        token = re.search(rb"/disiscrizione/([\w.\-]+)", rendered.data.replace(b"=\r\n", b""))
        donor, purpose = consent.from_unsubscribe_token(token.group(1).decode())
        assert (donor.id, purpose) == (reader.id, "report_back")
    # Opting out of report-backs while it goes out lapses the frozen delivery.
    reader = db.session.get(type(reader), reader.id)
    reader.report_back_opt_out = True
    db.session.commit()
    lapsed = db.session.scalar(select(audience.lapsed()).where(Delivery.email == reader.email))
    assert lapsed == audience.UNSUBSCRIBED
    organisation = db.session.get(type(organisation), organisation.id)
    organisation.report_back_enabled = False
    db.session.commit()
    assert audience.count(db.session.get(Newsletter, newsletter.id)) == 0


def test_the_staff_home_shows_expenses_to_approve_and_the_plan(client, login, english):
    pact, campaign = funded_pact(30_000)
    recorder = factories.user(roles=("treasurer",))
    with client.application.test_request_context():
        expense(campaign, 1_000, recorder, pact=pact)
        plan.save_targets(
            campaign.organisation_id, date.today().year, {("strategy", "pacts"): 60_000}
        )
        db.session.commit()
    login("treasurer")
    page = client.get("/staff/").text
    assert "expense waiting for approval" in page
    assert "Generative pacts: €300 / €600" in page.replace("\xa0", " ")
