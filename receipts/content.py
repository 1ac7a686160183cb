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
from flask import current_app

from campaigns.models import Campaign
from donors.models import Donor, DonorKind
from legami.models import EntityType, Organisation
from legami.money import format_money
from legami.timeutil import ROME
from payments.methods import is_deductible
from payments.models import Donation, Method
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


def gift(donation: Donation, amount_cents: int) -> dict:
    return {
        "donation_id": donation.id,
        "date": donation.received_on.isoformat(),
        "amount_cents": amount_cents,
        "method": donation.method,
        "deductible": is_deductible(donation.method),
        "campaign": _campaign(donation.campaign),
    }


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


def benefit_lines(snap: dict, amount_cents: int) -> list[Text]:
    """The tax-benefit and stamp-duty lines for this issuer, donor and gifts."""
    org, issuer = snap["organisation"], snap["issuer"]
    is_ets = org["entity_type"] in ETS
    lines = []
    if any(g["method"] == Method.CASH for g in snap["gifts"]):
        lines.append(CASH)
    if any(g["method"] == Method.OTHER_UNTRACEABLE for g in snap["gifts"]):
        lines.append(UNTRACEABLE)
    if any(g["deductible"] for g in snap["gifts"]):
        if is_ets and org["art83_eligible"]:
            if snap["donor"]["kind"] == DonorKind.ORGANISATION:
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
    gifts = [
        {
            **g,
            "day": _day(g["date"]),
            "amount": format_money(g["amount_cents"], receipt.currency, "it_IT"),
            "method_text": METHODS[g["method"]],
            "qr": _qr(g["campaign"]["funded_url"]),
        }
        for g in snap["gifts"]
    ]
    return {
        "receipt": receipt,
        "english": receipt.language == "en",
        "org": org,
        "legal_form": LEGAL_FORMS[EntityType(org["entity_type"])],
        "donor": snap["donor"],
        "gifts": gifts,
        "amount": format_money(receipt.amount_cents, receipt.currency, "it_IT"),
        "amount_words": euro_words(receipt.amount_cents),
        # An annual receipt: its year, and the total that gives a tax benefit (no cash).
        "annual": snap.get("annual"),
        "deductible": format_money(
            snap.get("annual", {}).get("deductible_cents", 0), receipt.currency, "it_IT"
        ),
        "issued_on": _day(_rome_day(receipt.issued_at)),
        "statements": [LIBERALITY, NO_CONSIDERATION],
        "benefits": benefit_lines(snap, receipt.amount_cents),
        "replaces": _replaces(snap["replaces"]),
        "logo": _upload_url(org["logo"]),
        "signature": _upload_url(snap["issuer"]["signature"]),
        "voided": voided,
        "copy": copy,
        "void_notice": _void_notice(receipt) if voided else None,
        "title": f"Ricevuta n. {receipt.display_number} - {org['name']}",
    }
