"""A gift's payment trace and joint account holder, as staff record them on the gift's page.

The trace is what proves the payment traceable on the receipt: a transfer's CRO/TRN or
end-to-end id, a cheque's number and bank, a postal receipt's number, a PayPal or Satispay
transaction id (a card gift's charge id and a transfer matched on a bank statement carry
their own; what staff type takes precedence). The joint holder is the other holder of the
account the gift came from: the gift then counts half for each (receipts, precompilata).
Receipts already issued keep what they printed; only receipts issued later read these.
"""

from flask_babel import lazy_gettext as _l

from donors.identity import find_existing
from legami import audit
from legami.models import User
from legami.validation import Invalid
from payments.models import Donation, Method


def save_trace(
    donation: Donation, reference: str, cheque_bank: str, joint_email: str, user: User | None
) -> Donation:
    """Set the gift's trace and joint holder (found by e-mail; empty for none). Audited;
    raises Invalid changing nothing. The caller commits."""
    clean = {
        "trace_reference": (reference or "").strip(),
        "cheque_bank": (cheque_bank or "").strip() if donation.method == Method.CHEQUE else "",
        "joint_donor_id": None,
    }
    email = (joint_email or "").strip().lower()
    if email:
        joint = find_existing(email)
        if joint is None:
            raise Invalid({"joint_email": _l("No donor has this e-mail address.")})
        if joint.id == donation.donor_id:
            raise Invalid({"joint_email": _l("The other holder must be another donor.")})
        clean["joint_donor_id"] = joint.id
    audit.record_update(user, "donation.trace", f"donation:{donation.id}", donation, clean)
    return donation
