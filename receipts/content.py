"""What a receipt says: the snapshot taken at issue time, and the wording the law asks for.

The wording follows ../shared/domain/receipts-it.md; the organisation's accountant reviews it.
The legal text is Italian; an English donor's receipt gives an English translation beside
each line (the Italian stays the text that counts). Everything printed comes from the
snapshot, so a receipt reads the same whatever changes later in the organisation or donor.
"""

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import segno
from babel.dates import format_date
from babel.numbers import format_currency
from flask import current_app
from sqlalchemy import select

from campaigns.models import Campaign
from donors.models import Donor, DonorKind
from legami.extensions import db
from legami.models import EntityType, Organisation
from legami.money import cents_to_decimal
from legami.timeutil import ROME
from payments.methods import is_deductible
from payments.models import Donation, LineDirection, LineStatus, Method, StatementLine
from receipts.amount_words import euro_words
from receipts.models import Receipt, ReceiptSettings

SNAPSHOT_VERSION = 1

# Entities of the third sector (ETS): art. 83 applies when the treasurer says the entity is
# non-commercial (`art83_eligible`), and art. 82 exempts their receipts from stamp duty.
ETS = frozenset(
    {
        EntityType.ODV,
        EntityType.APS,
        EntityType.OTHER_ETS,
        EntityType.ONLUS,
        EntityType.SOCIAL_COOPERATIVE,
    }
)
# Stamp duty of 2 EUR may be owed on receipts above this (issuers outside the ETS).
STAMP_DUTY_ABOVE_CENTS = 7747


@dataclass(frozen=True)
class Text:
    """A line of the receipt: Italian, and its English translation when there is one."""

    it: str
    en: str | None = None


LEGAL_FORMS = {
    EntityType.ODV: Text("Organizzazione di volontariato (ODV)", "Voluntary organisation"),
    EntityType.APS: Text(
        "Associazione di promozione sociale (APS)", "Social promotion association"
    ),
    EntityType.OTHER_ETS: Text("Ente del Terzo settore (ETS)", "Third-sector entity"),
    EntityType.ONLUS: Text("ONLUS", "Non-profit organisation of social utility"),
    EntityType.SOCIAL_COOPERATIVE: Text("Cooperativa sociale", "Social cooperative"),
    EntityType.MUNICIPALITY: Text("Comune", "Municipality"),
    EntityType.OTHER: Text(""),
}

METHODS = {
    Method.CARD: Text("Carta di pagamento", "Payment card"),
    Method.BANK_TRANSFER: Text("Bonifico bancario", "Bank transfer"),
    Method.POSTAL: Text("Bollettino o vaglia postale", "Postal payment slip or postal order"),
    Method.PAYPAL: Text("PayPal", "PayPal"),
    Method.SATISPAY: Text("Satispay", "Satispay"),
    Method.CHEQUE: Text("Assegno", "Cheque"),
    Method.CASH: Text("Contanti", "Cash"),
    Method.OTHER_UNTRACEABLE: Text("Altro mezzo non tracciabile", "Other untraceable means"),
    # Receipts issued before the methods were made explicit (migration 0008) say this.
    "other": Text("Altro mezzo", "Other means"),
}

LIBERALITY = Text(
    "La somma è stata ricevuta a titolo di erogazione liberale ed è destinata allo"
    " svolgimento delle attività istituzionali dell'ente.",
    "The amount was received as a gift (erogazione liberale) and will be used for the"
    " organisation's institutional activities.",
)
NO_CONSIDERATION = Text(
    "Erogazione effettuata senza alcun corrispettivo: nessun bene o servizio è stato"
    " ricevuto in cambio.",
    "Given without any consideration: no goods or services were received in return.",
)
ART83_PERSON = (
    "Erogazione liberale detraibile al {rate}% (art. 83, c. 1, D.Lgs. 117/2017, fino a"
    " 30.000 euro annui) o, in alternativa, deducibile nel limite del 10% del reddito"
    " complessivo dichiarato (art. 83, c. 2).",
    "Gift giving a tax credit of {rate}% (art. 83(1) Legislative Decree 117/2017, on up to"
    " 30,000 euros a year) or, alternatively, deductible up to 10% of declared total income"
    " (art. 83(2)).",
)
ART83_ENTITY = Text(
    "Erogazione liberale deducibile nel limite del 10% del reddito complessivo dichiarato"
    " (art. 83, c. 2, D.Lgs. 117/2017).",
    "Gift deductible up to 10% of declared total income (art. 83(2) Legislative Decree 117/2017).",
)
CASH = Text(
    "Versamento in contanti: non detraibile né deducibile.",
    "Cash payment: it gives no tax credit or deduction.",
)
UNTRACEABLE = Text(
    "Versamento con mezzo non tracciabile: non detraibile né deducibile.",
    "Payment by untraceable means: it gives no tax credit or deduction.",
)
# A company or other entity has no tax credit to lose: its lines say deduction only.
CASH_ENTITY = Text("Versamento in contanti: non deducibile.", "Cash payment: not deductible.")
UNTRACEABLE_ENTITY = Text(
    "Versamento con mezzo non tracciabile: non deducibile.",
    "Payment by untraceable means: not deductible.",
)
# An annual receipt's gift line paid in cash or by untraceable means.
NOT_DEDUCTIBLE_PERSON = Text("non detraibile né deducibile", "no tax credit or deduction")
NOT_DEDUCTIBLE_ENTITY = Text("non deducibile", "not deductible")
TOTAL_PERSON = Text("Totale detraibile o deducibile", "Total giving a tax benefit")
TOTAL_ENTITY = Text("Totale deducibile", "Total deductible")
SUMMARY_NOTICE = Text(
    "Il presente riepilogo non è una ricevuta: elenca le erogazioni dell'anno già attestate"
    " dalle ricevute indicate, che non sostituisce né integra. Ai fini fiscali valgono"
    " soltanto le singole ricevute.",
    "This summary is not a receipt: it lists the year's gifts already covered by the"
    " receipts named, which it neither replaces nor adds to. Only those receipts count for"
    " tax purposes.",
)
JOINT = (
    "Erogazione da conto cointestato: imputata per metà a ciascun cointestatario"
    " ({first} a {first_name}, {second} a {second_name}).",
    "Gift from a joint account: counted half to each holder ({first} to {first_name},"
    " {second} to {second_name}).",
)
JOINT_SHARE = Text(
    "quota del 50% di un versamento da conto cointestato",
    "50% share of a payment from a joint account",
)
# What proves a gift's traceability, per method (receipts-it.md: the method, and for a
# cheque or a payment whose record does not name the beneficiary, its reference).
TRACE_LABELS = {
    Method.CARD: Text("Identificativo dell'addebito", "Charge id"),
    Method.BANK_TRANSFER: Text("CRO/TRN o identificativo end-to-end", "CRO/TRN or end-to-end id"),
    Method.POSTAL: Text("Numero della ricevuta postale", "Postal receipt number"),
    Method.PAYPAL: Text("Identificativo della transazione", "Transaction id"),
    Method.SATISPAY: Text("Identificativo della transazione", "Transaction id"),
    Method.CHEQUE: Text("Assegno n.", "Cheque no."),
}
CHEQUE_BANK = Text("Banca", "Bank")
STAMP_DUTY_EXEMPT = Text(
    "Esente da imposta di bollo ai sensi dell'art. 82, c. 5, D.Lgs. 117/2017.",
    "Exempt from stamp duty under art. 82(5) Legislative Decree 117/2017.",
)


def public_url(endpoint: str, **values) -> str:
    """A page's public address (BASE_URL), inside a request or not (webhooks, CLI)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"] + path


def _address(street: str, postal_code: str, town: str, province: str, country: str = "IT"):
    place = " ".join(p for p in (postal_code, town) if p)
    if place and province:
        place += f" ({province})"
    parts = [p for p in (street, place) if p]
    if country and country != "IT":
        parts.append(country)
    return ", ".join(parts)


def _organisation(org: Organisation) -> dict:
    return {
        "name": org.name,
        "entity_type": org.entity_type,
        "art83_eligible": bool(org.art83_eligible),
        "codice_fiscale": org.codice_fiscale,
        "partita_iva": org.partita_iva or "",
        "runts_number": org.runts_number or "",
        "address": org.address,
        "town": org.town,
        "legal_representative": org.legal_representative,
        "email": org.email,
        "logo": org.logo or "",
    }


def _donor(donor: Donor) -> dict:
    return {
        "kind": donor.kind,
        "name": donor.display_name,
        "codice_fiscale": donor.codice_fiscale or "",
        "partita_iva": donor.partita_iva or "",
        "address": _address(
            donor.street, donor.postal_code, donor.town, donor.province, donor.country
        ),
    }


def _campaign(campaign: Campaign) -> dict:
    programmes = [
        {"kind": "pact", "title": p.title, "url": public_url("campaigns.pact", slug=p.slug)}
        for p in campaign.pacts
    ] + [
        {"kind": "lab", "title": lab.title, "url": public_url("campaigns.lab", slug=lab.slug)}
        for lab in campaign.labs
    ]
    url = public_url("campaigns.campaign", slug=campaign.slug)
    return {
        "title": campaign.title,
        "url": url,
        "programmes": programmes,
        # The QR code leads to what the gift funds: the one pact or lab, else the campaign.
        "funded_url": programmes[0]["url"] if len(programmes) == 1 else url,
    }


@lru_cache(maxsize=4096)
def euros(cents: int, currency: str = "EUR") -> str:
    """An amount as receipts and accounting exports print it: always two decimals,
    Italian style ("50,00 €", "1.234,50 €")."""
    return format_currency(cents_to_decimal(cents), currency, locale="it_IT")


def _statement_reference(donation_id: int) -> str:
    """The bank's reference for a transfer, from the statement line that confirmed it."""
    line = db.session.execute(
        select(StatementLine.end_to_end_id, StatementLine.bank_reference)
        .where(
            StatementLine.donation_id == donation_id,
            StatementLine.status == LineStatus.MATCHED,
            StatementLine.direction == LineDirection.CREDIT,
        )
        .order_by(StatementLine.id.desc())
        .limit(1)
    ).first()
    if line is None:
        return ""
    end_to_end = line.end_to_end_id if line.end_to_end_id.upper() != "NOTPROVIDED" else ""
    return end_to_end or line.bank_reference


def trace(donation: Donation) -> dict:
    """The payment's trace a receipt prints: what staff typed (payments.trace), else what
    the payment itself recorded (the card charge, the transfer's statement line)."""
    reference = donation.trace_reference
    if not reference and donation.method == Method.CARD:
        reference = donation.stripe_charge_id or donation.stripe_payment_intent_id or ""
    if not reference and donation.method == Method.BANK_TRANSFER:
        reference = _statement_reference(donation.id)
    return {
        "reference": reference or "",
        "bank": donation.cheque_bank if donation.method == Method.CHEQUE else "",
    }


def joint_shares(amount_cents: int) -> tuple[int, int]:
    """A joint account's gift split in halves: the first holder takes the odd cent."""
    return amount_cents - amount_cents // 2, amount_cents // 2


def _holder(donor: Donor) -> dict:
    return {"name": donor.display_name, "codice_fiscale": donor.codice_fiscale or ""}


def gift(donation: Donation, amount_cents: int, share_of: int | None = None) -> dict:
    """A gift line of a receipt. `share_of`: the line is one holder's half of a joint
    account's gift of that many cents."""
    line = {
        "donation_id": donation.id,
        "date": donation.received_on.isoformat(),
        "amount_cents": amount_cents,
        "method": donation.method,
        "deductible": is_deductible(donation.method),
        "campaign": _campaign(donation.campaign),
        "trace": trace(donation),
    }
    if donation.joint_donor_id is not None:
        line["joint"] = {
            "holders": [_holder(donation.donor), _holder(donation.joint_donor)],
            "shares": list(joint_shares(donation.net_cents)),
            "share_of": share_of,
        }
    return line


def missing_tax_code(donor: Donor) -> bool:
    return not (donor.codice_fiscale or donor.partita_iva)


def snapshot(
    org: Organisation,
    settings: ReceiptSettings,
    donor: Donor,
    gifts: list[dict],
    replaces: Receipt | None = None,
) -> dict:
    """The immutable data a receipt prints: taken once, when it is issued."""
    return {
        "version": SNAPSHOT_VERSION,
        "organisation": _organisation(org),
        "issuer": {
            "signature": settings.signature or "",
            "stamp_duty_line": settings.stamp_duty_line,
            "legal_basis": settings.legal_basis,
        },
        "donor": _donor(donor),
        "gifts": gifts,
        "replaces": (
            {
                "display_number": replaces.display_number,
                "issued_on": _rome_day(replaces.issued_at).isoformat(),
            }
            if replaces
            else None
        ),
    }


def _rome_day(moment: datetime) -> date:
    return moment.astimezone(ROME).date()


def _is_entity(snap: dict) -> bool:
    return snap["donor"]["kind"] == DonorKind.ORGANISATION


def benefit_lines(snap: dict, amount_cents: int) -> list[Text]:
    """The tax-benefit and stamp-duty lines for this issuer, donor and gifts."""
    org, issuer = snap["organisation"], snap["issuer"]
    is_ets = org["entity_type"] in ETS
    entity = _is_entity(snap)
    lines = []
    if any(g["method"] == Method.CASH for g in snap["gifts"]):
        lines.append(CASH_ENTITY if entity else CASH)
    if any(g["method"] == Method.OTHER_UNTRACEABLE for g in snap["gifts"]):
        lines.append(UNTRACEABLE_ENTITY if entity else UNTRACEABLE)
    if any(g["deductible"] for g in snap["gifts"]):
        if is_ets and org["art83_eligible"]:
            if entity:
                lines.append(ART83_ENTITY)
            else:
                rate = 35 if org["entity_type"] == EntityType.ODV else 30
                it, en = ART83_PERSON
                lines.append(Text(it.format(rate=rate), en.format(rate=rate)))
        elif issuer["legal_basis"]:
            lines.append(Text(issuer["legal_basis"]))
    if is_ets:
        lines.append(STAMP_DUTY_EXEMPT)
    elif issuer["stamp_duty_line"] and amount_cents > STAMP_DUTY_ABOVE_CENTS:
        lines.append(Text(issuer["stamp_duty_line"]))
    return lines


def _joint_line(joint: dict, currency: str) -> Text:
    first, second = joint["holders"]
    values = {
        "first": euros(joint["shares"][0], currency),
        "second": euros(joint["shares"][1], currency),
        "first_name": first["name"],
        "second_name": second["name"],
    }
    it, en = JOINT
    return Text(it.format(**values), en.format(**values))


def _trace_lines(line: dict) -> list[Text]:
    label, found = TRACE_LABELS.get(line["method"]), line.get("trace") or {}
    out = []
    if label and found.get("reference"):
        out.append(Text(f"{label.it} {found['reference']}", f"{label.en} {found['reference']}"))
    if found.get("bank"):
        bank = found["bank"]
        out.append(Text(f"{CHEQUE_BANK.it}: {bank}", f"{CHEQUE_BANK.en}: {bank}"))
    return out


def _day(value: str | date) -> Text:
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return Text(format_date(day, "long", locale="it"), format_date(day, "long", locale="en_GB"))


def _upload_url(name: str) -> str | None:
    """A stored upload (logo, signature) as a file URL for the PDF renderer."""
    return (Path(current_app.config["UPLOAD_FOLDER"]) / name).resolve().as_uri() if name else None


# Receipts print the same few campaign, pact and lab addresses again and again: an annual
# run would otherwise encode each one anew for every gift line.
@lru_cache(maxsize=256)
def _qr(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=4, border=0, dark="#222")


def _replaces(replaces: dict | None) -> Text | None:
    if not replaces:
        return None
    number, day = replaces["display_number"], _day(replaces["issued_on"])
    return Text(
        f"Sostituisce la ricevuta n. {number} del {day.it}, annullata.",
        f"Replaces receipt no. {number} of {day.en}, cancelled.",
    )


def _void_notice(receipt: Receipt) -> Text:
    day = _day(_rome_day(receipt.voided_at))
    it = f"ANNULLATA il {day.it}: {receipt.void_reason}."
    en = f"Cancelled on {day.en}: {receipt.void_reason}."
    if receipt.replaced_by:
        number = receipt.replaced_by[0].display_number
        it += f" Sostituita dalla ricevuta n. {number}."
        en += f" Replaced by receipt no. {number}."
    return Text(it, en)


def context(receipt: Receipt, voided: bool = False, copy: bool = False) -> dict:
    """Everything the receipt template prints, read from the snapshot; `copy` marks the
    re-downloaded copy (COPIA), `voided` the watermarked voided one."""
    snap = receipt.snapshot
    org = snap["organisation"]
    entity = _is_entity(snap)
    summary = snap.get("summary")
    gifts = [
        {
            **g,
            "day": _day(g["date"]),
            "amount": euros(g["amount_cents"], receipt.currency),
            "method_text": METHODS[g["method"]],
            "trace_lines": _trace_lines(g),
            "share": JOINT_SHARE if (g.get("joint") or {}).get("share_of") else None,
            "qr": _qr(g["campaign"]["funded_url"]),
        }
        for g in snap["gifts"]
    ]
    joint = [
        _joint_line(g["joint"], receipt.currency)
        for g in snap["gifts"]
        if g.get("joint") and not g["joint"].get("share_of")
    ]
    annual = snap.get("annual")
    if summary:
        title = f"Riepilogo delle erogazioni {annual['year']} - {org['name']}"
        label = f"Riepilogo delle erogazioni {annual['year']} (non è una ricevuta)"
    else:
        title = f"Ricevuta n. {receipt.display_number} - {org['name']}"
        label = f"Ricevuta n. {receipt.display_number}"
    return {
        "receipt": receipt,
        "english": receipt.language == "en",
        "org": org,
        "legal_form": LEGAL_FORMS[EntityType(org["entity_type"])],
        "donor": snap["donor"],
        "gifts": gifts,
        "amount": euros(receipt.amount_cents, receipt.currency),
        "amount_words": euro_words(receipt.amount_cents),
        # An annual receipt or summary: its year, and the total that gives a tax benefit.
        "annual": annual,
        "summary": summary,
        "summary_notice": SUMMARY_NOTICE if summary else None,
        "deductible": euros((annual or {}).get("deductible_cents", 0), receipt.currency),
        "total_label": TOTAL_ENTITY if entity else TOTAL_PERSON,
        "not_deductible": NOT_DEDUCTIBLE_ENTITY if entity else NOT_DEDUCTIBLE_PERSON,
        "issued_on": _day(_rome_day(receipt.issued_at)),
        "statements": [] if summary else [LIBERALITY, NO_CONSIDERATION],
        "benefits": [] if summary else benefit_lines(snap, receipt.amount_cents),
        "joint": joint,
        "replaces": _replaces(snap["replaces"]),
        "logo": _upload_url(org["logo"]),
        "signature": _upload_url(snap["issuer"]["signature"]),
        "voided": voided,
        "copy": copy,
        "void_notice": _void_notice(receipt) if voided else None,
        "title": title,
        "footer_label": label,
        # PDF/A metadata: the document's creation is the receipt's issue (or its voiding).
        "created": (receipt.voided_at if voided else receipt.issued_at).isoformat(),
    }
