"""Receipts issued, voided and reissued as payments signal gifts, refunds and disputes; what the
PDF says for each kind of issuer, donor and payment (read back with pdftotext)."""

from datetime import date

import pytest
from babel.dates import format_date
from sqlalchemy import func, select

from donors.identity import DonorDetails
from legami.extensions import db
from legami.models import AuditEntry, EntityType
from legami.timeutil import today_rome
from legami.validation import Invalid
from payments import treasury
from receipts import issuing, pdf
from receipts.content import euros as format_money
from receipts.models import Receipt, ReceiptSequence, ReceiptSettings
from tests import factories
from tests.receipts.conftest import card_gift, dispute, pdf_info, pdf_text, refund, squeeze

YEAR = today_rome().year

LIBERALITY = (
    "La somma è stata ricevuta a titolo di erogazione liberale ed è destinata allo"
    " svolgimento delle attività istituzionali dell'ente."
)
NO_CONSIDERATION = (
    "Erogazione effettuata senza alcun corrispettivo: nessun bene o servizio è stato"
    " ricevuto in cambio."
)
ART83 = (
    "Erogazione liberale detraibile al {rate}% (art. 83, c. 1, D.Lgs. 117/2017, fino a"
    " 30.000 euro annui) o, in alternativa, deducibile nel limite del 10% del reddito"
    " complessivo dichiarato (art. 83, c. 2)."
)
ART83_ENTITY = (
    "Erogazione liberale deducibile nel limite del 10% del reddito complessivo dichiarato"
    " (art. 83, c. 2, D.Lgs. 117/2017)."
)
STAMP_EXEMPT = "Esente da imposta di bollo ai sensi dell'art. 82, c. 5, D.Lgs. 117/2017"
CASH = "Versamento in contanti: non detraibile né deducibile."


def _campaign(entity_type: str, **overrides):
    """A campaign funding a pact and a lab, run by an organisation of this entity type."""
    org = factories.organisation(
        name=overrides.pop("name", "Amici del Quartiere ODV"),
        entity_type=entity_type,
        art83_eligible=entity_type not in (EntityType.MUNICIPALITY, EntityType.OTHER),
        runts_number="RUNTS-4521",
        **overrides,
    )
    campaign = factories.campaign(
        organisation=org,
        title="Un tetto per tutti",
        pacts=[factories.pact(title="Patto della Cascina")],
        labs=[factories.lab(title="Laboratorio Porta Po")],
    )
    return campaign


def _donor(**overrides):
    data = {
        "first_name": "Giulia",
        "last_name": "Bianchi",
        "codice_fiscale": "BNCGLI80A41D150X",
        "street": "Via Verdi 3",
        "postal_code": "26100",
        "town": "Cremona",
        "province": "CR",
        **overrides,
    }
    return factories.donor(**data)


def _receipts():
    """Every receipt, once the scheduler's job has issued those due."""
    db.session.commit()
    issuing.issue_due()
    db.session.expire_all()
    return db.session.scalars(select(Receipt).order_by(Receipt.id)).all()


def _day(value: date) -> str:
    return format_date(value, "long", locale="it")


def _common_fields(text: str, campaign, donor, receipt, donation) -> None:
    org = campaign.organisation
    expected = [
        # the issuer
        org.name,
        f"Codice fiscale {org.codice_fiscale}",
        "Via Roma 1, 26100 Cremona (CR)",
        "Iscrizione RUNTS n. RUNTS-4521",
        # the receipt
        "Ricevuta per erogazione liberale",
        f"{YEAR}/{receipt.number:06d}",
        # the donor
        "Giulia Bianchi",
        "Via Verdi 3, 26100 Cremona (CR)",
        f"Codice fiscale {donor.codice_fiscale}",
        # the gift: amount in figures and words, date and method
        squeeze(format_money(donation.amount_cents)),
        "cinquanta euro",
        _day(donation.received_on),
        "Carta di pagamento",
        # what it funds, with public addresses
        "Un tetto per tutti",
        f"http://localhost/campagne/{campaign.slug}",
        "Patto della Cascina",
        f"http://localhost/patti/{campaign.pacts[0].slug}",
        "Laboratorio Porta Po",
        f"http://localhost/laboratori/{campaign.labs[0].slug}",
        # statements and signature
        LIBERALITY,
        NO_CONSIDERATION,
        "Il legale rappresentante",
        org.legal_representative,
    ]
    missing = [item for item in expected if item not in text]
    assert missing == [], text


@pytest.mark.parametrize(
    ("entity_type", "rate", "legal_form"),
    [
        (EntityType.ODV, 35, "Organizzazione di volontariato (ODV)"),
        (EntityType.APS, 30, "Associazione di promozione sociale (APS)"),
    ],
)
def test_card_webhook_issues_a_numbered_receipt_for_an_ets(
    webhooks, client, entity_type, rate, legal_form
):
    campaign = _campaign(entity_type)
    donor = _donor()
    donation = card_gift(client, campaign, donor=donor)

    (receipt,) = _receipts()
    assert (receipt.year, receipt.number, receipt.display_number) == (YEAR, 1, f"{YEAR}/000001")
    assert (receipt.amount_cents, receipt.status, receipt.kind) == (5000, "issued", "single")
    assert receipt.donation_id == donation.id and not receipt.missing_tax_code
    assert receipt.pdf_path is None  # the webhook only wrote rows; the PDF comes later
    assert [(g.donation_id, g.amount_cents) for g in receipt.gifts] == [(donation.id, 5000)]

    data = pdf.stored_bytes(receipt)
    text = pdf_text(data)
    _common_fields(text, campaign, donor, receipt, donation)
    assert legal_form in text
    assert ART83.format(rate=rate) in text
    assert STAMP_EXEMPT in text
    assert CASH not in text
    info = pdf_info(data)
    assert info["Pages"] == "1" and "A4" in info["Page size"]
    org_name = campaign.organisation.name
    assert (info["Title"], info["Author"]) == (f"Ricevuta n. {YEAR}/000001 - {org_name}", org_name)

    second = card_gift(client, campaign, donor=_donor(last_name="Neri"))
    assert [(r.number, r.donation_id) for r in _receipts()] == [(1, donation.id), (2, second.id)]


def test_a_municipality_prints_no_tax_benefit_unless_configured(webhooks, client):
    campaign = _campaign(EntityType.MUNICIPALITY, name="Comune di Pizzighettone")
    donor = _donor()
    donation = card_gift(client, campaign, donor=donor)
    (receipt,) = _receipts()
    text = pdf_text(pdf.stored_bytes(receipt))
    _common_fields(text, campaign, donor, receipt, donation)
    assert "Comune" in text
    for benefit in ("detraibile", "deducibile", "art. 83", "imposta di bollo"):
        assert benefit not in text

    settings = db.session.get(ReceiptSettings, campaign.organisation_id)
    settings.legal_basis = "Erogazione liberale ai sensi dell'art. 1 D.L. 83/2014 (Art Bonus)."
    settings.stamp_duty_line = "Imposta di bollo assolta in modo virtuale."
    db.session.commit()
    small = card_gift(client, campaign, donor=donor)
    large = card_gift(client, campaign, amount_cents=10_000, donor=donor)
    by_gift = {r.donation_id: r for r in _receipts()}
    small_text = pdf_text(pdf.stored_bytes(by_gift[small.id]))
    large_text = pdf_text(pdf.stored_bytes(by_gift[large.id]))
    assert "(Art Bonus)" in small_text and "(Art Bonus)" in large_text
    # Stamp duty may be owed only above 77.47 EUR.
    assert "assolta in modo virtuale" not in small_text
    assert "assolta in modo virtuale" in large_text
    # The first receipt keeps what it said when it was issued.
    assert "(Art Bonus)" not in pdf_text(pdf.stored_bytes(by_gift[donation.id]))


def test_a_company_donor_gets_the_deduction_wording_only(webhooks, client):
    campaign = _campaign(EntityType.APS)
    company = factories.donor(
        kind="organisation", organisation_name="Ferramenta Rossi srl", partita_iva="01234567897"
    )
    card_gift(client, campaign, donor=company)
    text = pdf_text(pdf.stored_bytes(_receipts()[0]))
    assert "Ferramenta Rossi srl" in text and "Partita IVA 01234567897" in text
    assert ART83_ENTITY in text
    assert "detraibile al" not in text


def test_cash_gift_says_it_gives_no_benefit(app, client):
    campaign = _campaign(EntityType.ODV)
    donation = treasury.record_offline(
        campaign,
        "cash",
        2550,
        today_rome(),
        DonorDetails(email="cash@example.org", first_name="Anna", last_name="Verdi"),
        factories.user(roles=("treasurer",)),
    )
    (receipt,) = _receipts()
    assert receipt.donation_id == donation.id and receipt.missing_tax_code
    text = pdf_text(pdf.stored_bytes(receipt))
    assert CASH in text
    assert "Contanti" in text
    assert "venticinque euro e cinquanta centesimi" in text
    for benefit in ("detraibile al", "deducibile nel limite"):
        assert benefit not in text
    assert STAMP_EXEMPT in text  # the issuer is still an ETS


def test_an_english_donor_gets_the_italian_wording_with_a_translation(webhooks, client):
    campaign = _campaign(EntityType.APS)
    card_gift(client, campaign, donor=_donor(language="en"))
    (receipt,) = _receipts()
    assert receipt.language == "en"
    text = pdf_text(pdf.stored_bytes(receipt))
    for italian in (LIBERALITY, NO_CONSIDERATION, ART83.format(rate=30), STAMP_EXEMPT):
        assert italian in text
    for english in (
        "Receipt for a donation",
        "Given without any consideration: no goods or services were received in return.",
        "Gift giving a tax credit of 30%",
        "Exempt from stamp duty under art. 82(5)",
        "Payment card",
    ):
        assert english in text


def test_partial_then_full_refund_voids_and_reissues_with_new_numbers(webhooks, client):
    campaign = _campaign(EntityType.ODV)
    donation = card_gift(client, campaign, donor=_donor())
    (first,) = _receipts()
    original_pdf = pdf.stored_bytes(first)

    refund(client, donation, 2000)
    refund(client, donation, 2000)  # delivered again: nothing more happens
    first, second = _receipts()
    assert (first.status, first.void_reason, first.number) == ("voided", "rimborso parziale", 1)
    assert (second.status, second.number, second.amount_cents) == ("issued", 2, 3000)
    assert second.replaces_id == first.id and second.donation_id == donation.id
    reissued = pdf_text(pdf.stored_bytes(second))
    assert f"Sostituisce la ricevuta n. {YEAR}/000001" in reissued
    assert "trenta euro" in reissued

    voided = pdf_text(pdf.stored_bytes(first, pdf.Variant.VOIDED))
    assert "ANNULLATA" in voided and "rimborso parziale" in voided
    assert f"Sostituita dalla ricevuta n. {YEAR}/000002" in voided
    assert pdf.stored_bytes(first) == original_pdf  # the original is kept as it was
    assert first.voided_pdf_path != first.pdf_path

    refund(client, donation, 5000)
    first, second = _receipts()
    assert (second.status, second.void_reason) == ("voided", "rimborso")
    assert "ANNULLATA" in pdf_text(pdf.stored_bytes(second, pdf.Variant.VOIDED))

    later = card_gift(client, campaign, donor=_donor())
    numbers = [(r.number, r.status) for r in _receipts()]
    assert numbers == [(1, "voided"), (2, "voided"), (3, "issued")]
    assert _receipts()[-1].donation_id == later.id
    voids = db.session.scalars(
        select(AuditEntry.detail).where(AuditEntry.action == "receipt.void")
    ).all()
    assert [v["reason"] for v in voids] == ["rimborso parziale", "rimborso"]


def test_a_refund_of_a_gift_still_pending_receipts_what_remains(webhooks, client):
    """Stripe may say refunded before succeeded: the gift is settled and receipted once."""
    campaign = _campaign(EntityType.ODV)
    pending = factories.donation(
        campaign=campaign,
        donor=_donor(),
        status="pending",
        received_on=None,
        amount_cents=5000,
        stripe_payment_intent_id="pi_early",
        stripe_charge_id="ch_early",
    )
    refund(client, pending, 1000)
    (receipt,) = _receipts()
    assert (receipt.status, receipt.amount_cents, receipt.number) == ("issued", 4000, 1)


def test_missing_codice_fiscale_is_flagged_and_still_receipted(webhooks, client):
    campaign = _campaign(EntityType.ODV)
    card_gift(client, campaign, donor=_donor(codice_fiscale=None))
    (receipt,) = _receipts()
    assert receipt.missing_tax_code
    assert "Codice fiscale non comunicato" in pdf_text(pdf.stored_bytes(receipt))


def test_threshold_and_policy(webhooks, client):
    campaign = _campaign(EntityType.ODV)
    settings = issuing.settings_for(campaign.organisation_id)
    assert (settings.policy, settings.threshold_cents) == ("per_gift", 0)
    settings.threshold_cents = 1000
    db.session.commit()
    small = card_gift(client, campaign, amount_cents=500, donor=_donor())
    assert _receipts() == []
    asked = issuing.issue_for_gift(small.id, requested=True)
    db.session.commit()
    assert (asked.number, asked.amount_cents) == (1, 500)
    assert issuing.issue_for_gift(small.id, requested=True).id == asked.id  # not twice

    settings = db.session.get(ReceiptSettings, campaign.organisation_id)
    settings.policy = "annual"
    db.session.commit()
    card_gift(client, campaign, amount_cents=5000, donor=_donor())
    assert len(_receipts()) == 1


def test_a_dispute_flags_the_receipt(webhooks, client):
    campaign = _campaign(EntityType.ODV)
    donation = card_gift(client, campaign, donor=_donor())
    dispute(client, donation, "needs_response")
    assert _receipts()[0].disputed
    dispute(client, donation, "won")
    (receipt,) = _receipts()
    assert not receipt.disputed and receipt.status == "issued"


def test_a_lost_dispute_voids_the_receipt(webhooks, client):
    campaign = _campaign(EntityType.ODV)
    donation = card_gift(client, campaign, donor=_donor())
    dispute(client, donation, "needs_response")
    dispute(client, donation, "lost")
    (receipt,) = _receipts()
    assert (receipt.status, receipt.void_reason, receipt.disputed) == ("voided", "rimborso", True)


def test_void_by_hand_needs_a_reason_and_is_audited(webhooks, client):
    campaign = _campaign(EntityType.ODV)
    card_gift(client, campaign, donor=_donor())
    (receipt,) = _receipts()
    treasurer = factories.user(roles=("treasurer",))
    with pytest.raises(Invalid):
        issuing.void(receipt, "  ", treasurer)
    issuing.void(receipt, "Intestata alla persona sbagliata", treasurer)
    db.session.commit()
    with pytest.raises(Invalid):
        issuing.void(receipt, "di nuovo", treasurer)
    db.session.rollback()
    (receipt,) = _receipts()
    assert (receipt.status, receipt.voided_by_id) == ("voided", treasurer.id)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "receipt.void"))
    assert entry.user_id == treasurer.id and entry.target == f"receipt:{receipt.id}"
    assert entry.detail["reason"] == "Intestata alla persona sbagliata"


def test_numbers_are_per_organisation_and_year_and_a_rollback_returns_the_number(app):
    from receipts.numbering import display_number, next_number

    one, two = factories.organisation(), factories.organisation()
    assert [next_number(one.id, 2026) for _ in range(3)] == [1, 2, 3]
    assert next_number(two.id, 2026) == 1
    assert next_number(one.id, 2027) == 1
    db.session.commit()
    assert next_number(one.id, 2026) == 4
    db.session.rollback()
    assert next_number(one.id, 2026) == 4
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(ReceiptSequence)) == 3
    assert display_number("{year}/{number:06d}", 2026, 123) == "2026/000123"
    assert display_number("R-{number}-{year}", 2026, 7) == "R-7-2026"
