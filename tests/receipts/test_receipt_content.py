"""What every receipt says, read back from its PDF with pdftotext: the per-gift receipt, the
annual receipt and the summary, for every entity type, both kinds of donor and every payment
method (receipts-it.md: issuer, donor, amount in figures with two decimals and in words, date,
method and its trace, the wording of the tax benefit or of its absence)."""

from datetime import date

import pytest
from sqlalchemy import select

from donors.models import DonorKind
from legami.extensions import db
from legami.models import EntityType
from payments.methods import is_deductible
from payments.models import Method
from receipts import annual, content, issuing, pdf
from receipts.amount_words import euro_words
from receipts.models import Kind, Policy, Receipt
from tests import factories
from tests.receipts.conftest import pdf_text, squeeze

YEAR = 2025
PERSON_CF = "RSSMRA85T10A562S"
COMPANY_CF = "01234567897"
# What staff or the payment recorded for each method, and how the receipt labels it.
TRACES = {
    Method.CARD: {"stripe_charge_id": "ch_3PtraceCARD01"},
    Method.BANK_TRANSFER: {"trace_reference": "0306909606123456789012"},
    Method.POSTAL: {"trace_reference": "VCY-0042-7781"},
    Method.PAYPAL: {"trace_reference": "PAYID-M7X2K4Q"},
    Method.SATISPAY: {"trace_reference": "SP-7f3a9c"},
    Method.CHEQUE: {"trace_reference": "0001234567", "cheque_bank": "Banca Cremasca"},
    Method.CASH: {},
    Method.OTHER_UNTRACEABLE: {},
}
ART83 = {EntityType.ODV, EntityType.APS, EntityType.OTHER_ETS, EntityType.ONLUS}
ART83 |= {EntityType.SOCIAL_COOPERATIVE}


def _org(entity_type: EntityType):
    return factories.organisation(
        entity_type=entity_type,
        art83_eligible=entity_type in ART83,
        runts_number="RUNTS-123" if entity_type in ART83 else None,
    )


def _donor(kind: str):
    if kind == DonorKind.PERSON:
        return factories.donor(
            first_name="Giulia", last_name="Bianchi", codice_fiscale=PERSON_CF, street="Via Verdi 3"
        )
    return factories.donor(
        kind=DonorKind.ORGANISATION,
        organisation_name="Ditta Esempio Srl",
        first_name="",
        last_name="",
        codice_fiscale=COMPANY_CF,
    )


def _gift(campaign, donor, method: Method, amount_cents: int, day: date):
    return factories.donation(
        campaign=campaign,
        donor=donor,
        method=method,
        amount_cents=amount_cents,
        received_on=day,
        **TRACES[method],
    )


def _trace_text(method: Method) -> list[str]:
    values = TRACES[method]
    reference = values.get("stripe_charge_id") or values.get("trace_reference")
    if not reference:
        return []
    out = [f"{content.TRACE_LABELS[method].it} {reference}"]
    if values.get("cheque_bank"):
        out.append(f"Banca: {values['cheque_bank']}")
    return out


def _benefit(entity_type: EntityType, donor_kind: str, method: Method) -> tuple[str, str]:
    """(text the receipt must say, text it must not say) about the tax benefit."""
    company = donor_kind == DonorKind.ORGANISATION
    if method == Method.CASH:
        return (content.CASH_ENTITY if company else content.CASH).it, "art. 83"
    if method == Method.OTHER_UNTRACEABLE:
        return (content.UNTRACEABLE_ENTITY if company else content.UNTRACEABLE).it, "art. 83"
    if entity_type not in ART83:
        return "attività istituzionali", "art. 83"
    if company:
        return content.ART83_ENTITY.it, "detraibile al"
    rate = 35 if entity_type == EntityType.ODV else 30
    return f"Erogazione liberale detraibile al {rate}%", "Versamento in contanti"


def _common(text: str, receipt: Receipt, org, donor) -> None:
    assert org.name in text and f"Codice fiscale {org.codice_fiscale}" in text
    assert "Donatore" in text and "Ricevuta da" not in text
    assert donor.display_name in text and donor.codice_fiscale in text
    assert squeeze(content.euros(receipt.amount_cents)) in text
    assert squeeze(euro_words(receipt.amount_cents)) in text
    if org.entity_type in ART83:
        assert f"RUNTS n. {org.runts_number}" in text
        # A summary is not a receipt: it carries no stamp-duty or tax-benefit wording.
        assert (content.STAMP_DUTY_EXEMPT.it in text) == (receipt.kind != Kind.SUMMARY)


@pytest.mark.parametrize("entity_type", list(EntityType))
@pytest.mark.parametrize("donor_kind", [DonorKind.PERSON, DonorKind.ORGANISATION])
def test_per_gift_receipts_for_every_method(app, entity_type, donor_kind):
    org = _org(entity_type)
    campaign = factories.campaign(organisation=org)
    donor = _donor(donor_kind)
    for k, method in enumerate(Method):
        amount = 2_500 + 100 * k  # 25,00 €, 26,00 €...: whole euros print two decimals
        gift = _gift(campaign, donor, method, amount, date(YEAR, 3, 2 + k))
        receipt = issuing.issue_for_gift(gift.id, requested=True)
        db.session.commit()
        text = pdf_text(pdf.render(receipt))
        _common(text, receipt, org, donor)
        euros = squeeze(content.euros(amount))
        assert euros.endswith(",00 €")
        assert f"Si attesta di aver ricevuto da {donor.display_name} la somma di {euros}" in text
        assert f"{2 + k} marzo {YEAR}" in text
        assert content.METHODS[method].it in text
        for line in _trace_text(method):
            assert line in text
        must, must_not = _benefit(entity_type, donor_kind, method)
        assert must in text and must_not not in text
        assert content.LIBERALITY.it in text and content.NO_CONSIDERATION.it in text


@pytest.mark.parametrize("entity_type", list(EntityType))
@pytest.mark.parametrize("donor_kind", [DonorKind.PERSON, DonorKind.ORGANISATION])
def test_annual_receipts_and_summaries(app, entity_type, donor_kind):
    """Under "both": gifts above the threshold have receipts of their own and are listed on
    the unnumbered summary with their numbers; the cash gift and the one below the threshold
    are on the numbered annual receipt, with the wording for this donor."""
    org = _org(entity_type)
    issuing.settings_for(org.id).policy = Policy.BOTH
    issuing.settings_for(org.id).threshold_cents = 1_000
    db.session.commit()
    campaign = factories.campaign(organisation=org)
    donor = _donor(donor_kind)
    gifts = {}
    for k, method in enumerate(Method):
        amount = 500 if method == Method.SATISPAY else 2_000 + 100 * k  # Satispay: below
        gifts[method] = _gift(campaign, donor, method, amount, date(YEAR, 5, 1 + k))
        issuing.issue_for_gift(gifts[method].id)
    db.session.commit()
    own = {
        r.donation_id: r.display_number
        for r in db.session.scalars(select(Receipt).where(Receipt.kind == Kind.SINGLE))
    }
    assert set(own) == {g.id for m, g in gifts.items() if m != Method.SATISPAY}

    for _ in range(2):  # a second run issues nothing more
        for _batch in annual.issue_batches(YEAR, org.id):
            pass
    numbered = db.session.scalar(select(Receipt).where(Receipt.kind == Kind.ANNUAL))
    summary = db.session.scalar(select(Receipt).where(Receipt.kind == Kind.SUMMARY))
    assert [g.donation_id for g in numbered.gifts] == [gifts[Method.SATISPAY].id]
    assert sorted(g.donation_id for g in summary.gifts) == sorted(own)
    assert summary.number is None and numbered.number is not None

    text = pdf_text(pdf.render(numbered))
    _common(text, numbered, org, donor)
    assert f"ricevuta annuale {YEAR}" in text and numbered.display_number in text
    total = "Totale deducibile" if donor_kind == DonorKind.ORGANISATION else "Totale detraibile"
    assert total in text
    assert f"Si attesta di aver ricevuto da {donor.display_name}" in text
    assert "Riepilogo" not in text

    text = pdf_text(pdf.render(summary))
    _common(text, summary, org, donor)
    assert f"Riepilogo delle erogazioni {YEAR}" in text
    assert squeeze(content.SUMMARY_NOTICE.it) in text
    assert f"attestate dalla ricevuta annuale n. {numbered.display_number}" in text
    for number in own.values():
        assert f"n. {number}" in text
    not_deductible = "non deducibile" if donor_kind == DonorKind.ORGANISATION else "né deducibile"
    for method, gift in gifts.items():
        if gift.id not in own:
            continue
        assert content.METHODS[method].it in text
        for line in _trace_text(method):
            assert line in text
        if not is_deductible(method):
            assert not_deductible in text
    assert "Si attesta di aver ricevuto" not in text
    assert "Totale detraibile" not in text and "Ricevuta n." not in text
