"""An organisation's receipt settings, saved from the treasurer's form: checked whole, then
stored and audited together, or not at all; and what the treasurer must be warned of."""

from datetime import date

from flask_babel import lazy_gettext as _l

from legami import audit
from legami.extensions import db
from legami.models import EntityType, Organisation, User
from legami.money import MAX_GIFT_CENTS, AmountError, parse_amount
from legami.uploads import save_image
from legami.validation import Invalid
from receipts import numbering, seal
from receipts.models import Delivery, Policy, ReceiptSettings

FIELDS = (
    "policy",
    "threshold_cents",
    "number_format",
    "say_copy_on_redownload",
    "delivery",
    "signature",
    "stamp_duty_line",
    "legal_basis",
)


def save(
    settings: ReceiptSettings,
    data: dict,
    user: User | None,
    signature=None,
    remove_signature: bool = False,
) -> ReceiptSettings:
    """Apply the form's data (`threshold` in euros as typed); raises Invalid, storing nothing.

    A new signature image (`signature`, the form's signature_image upload) or its removal
    applies to receipts issued from now on: issued ones keep the signature of their snapshot.
    """
    errors: dict[str, str] = {}
    clean = {
        "policy": data.get("policy"),
        "number_format": (data.get("number_format") or "").strip(),
        "say_copy_on_redownload": bool(data.get("say_copy_on_redownload")),
        "delivery": data.get("delivery"),
        "signature": None if remove_signature else settings.signature,
        "stamp_duty_line": (data.get("stamp_duty_line") or "").strip(),
        "legal_basis": (data.get("legal_basis") or "").strip(),
    }
    if clean["policy"] not in set(Policy):
        errors["policy"] = _l("Choose when receipts are issued.")
    if clean["delivery"] not in set(Delivery):
        errors["delivery"] = _l("Choose how receipts reach the donor.")
    try:
        clean["threshold_cents"] = parse_amount(
            data.get("threshold") or "0", MAX_GIFT_CENTS, allow_zero=True
        )
    except AmountError as exc:
        errors["threshold"] = exc.message
    problem = numbering.format_problem(clean["number_format"])
    if problem:
        errors["number_format"] = problem
    if signature and signature.filename and not errors:
        clean["signature"] = save_image(signature, "signature_image")
    if errors:
        raise Invalid(errors)
    audit.record_update(
        user,
        "receipts.settings",
        f"organisation:{settings.organisation_id}",
        settings,
        {key: clean[key] for key in FIELDS},
    )
    db.session.commit()
    return settings


# The ONLUS register closed with 2025: from 2026 an ONLUS gives art. 83 benefits only once
# enrolled in the RUNTS (receipts-it.md), so its receipts need the RUNTS number.
RUNTS_REQUIRED_FROM = 2026


def onlus_without_runts(org: Organisation, today: date) -> bool:
    """Whether the organisation is set as an ONLUS with no RUNTS number in 2026 or later."""
    return (
        org.entity_type == EntityType.ONLUS
        and not (org.runts_number or "").strip()
        and today.year >= RUNTS_REQUIRED_FROM
    )


def save_seal(
    settings: ReceiptSettings, data: dict, user: User | None, upload=None
) -> ReceiptSettings:
    """The seal form: a new certificate (checked), its removal, the TSA URL. Audited;
    commits, or raises Invalid storing nothing."""
    if data.get("remove_seal"):
        seal.remove_certificate(settings, user)
    elif upload is not None and upload.filename:
        seal.save_certificate(settings, upload, data.get("seal_password") or "", user)
    audit.record_update(
        user,
        "receipts.seal",
        f"organisation:{settings.organisation_id}",
        settings,
        {"tsa_url": (data.get("tsa_url") or "").strip()},
    )
    db.session.commit()
    return settings
