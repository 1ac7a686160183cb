"""A summary ("Riepilogo delle erogazioni") is listed and served like a receipt in the portal
and on the staff pages, but it is never mailed, voided, or counted as a receipt."""

from datetime import date

from sqlalchemy import select

from legami.extensions import db
from receipts import annual, exports, issuing
from receipts.models import Kind, Policy, Receipt
from tests import factories
from tests.donors.test_portal import portal_login
from tests.receipts.conftest import pdf_text

YEAR = 2025


def test_the_summary_in_the_portal_and_on_the_staff_pages(app, client, login):
    org = factories.organisation()
    issuing.settings_for(org.id).policy = Policy.BOTH
    donor = factories.donor(codice_fiscale="RSSMRA85T10A562S")
    gift = factories.donation(
        campaign=factories.campaign(organisation=org), donor=donor, received_on=date(YEAR, 3, 1)
    )
    single = issuing.issue_for_gift(gift.id)
    db.session.commit()
    for _ in annual.issue_batches(YEAR, org.id):
        pass
    (summary,) = db.session.scalars(select(Receipt).where(Receipt.kind == Kind.SUMMARY)).all()
    assert not db.session.scalars(select(Receipt).where(Receipt.kind == Kind.ANNUAL)).all()
    # The reconciliation counts the gift once, from its own receipt.
    totals = exports.reconciliation(YEAR, org.id)
    assert [(m.receipted_cents, m.not_receipted) for m in totals["methods"]] == [(2500, 0)]
    assert [row[0] for row in exports.ledger_rows(exports.Scope(organisation_id=org.id))] == [
        single.display_number
    ]

    portal_login(app, client, donor)
    page = client.get("/portal/ricevute?lang=en")
    assert "summary of gifts with their own receipts" in page.text
    served = client.get(f"/portal/ricevute/{summary.id}.pdf")
    assert served.status_code == 200
    assert f'filename="riepilogo-{YEAR}-{summary.id}.pdf"' in served.headers["Content-Disposition"]
    text = pdf_text(served.data)
    assert f"Riepilogo delle erogazioni {YEAR}" in text and f"n. {single.display_number}" in text

    with client.session_transaction() as session:
        session.clear()
    login("treasurer")
    detail = client.get(f"/staff/receipts/{summary.id}?lang=en")
    assert "not a receipt, unnumbered, never mailed" in detail.text
    assert "Send it to the donor again" not in detail.text
    refused = client.post(f"/staff/receipts/{summary.id}/send?lang=en", follow_redirects=True)
    assert "it is not mailed" in refused.text
