"""What payments tells the rest of Legami. Receivers run after the change is committed.

Each is sent once per change, by the one process that made it (the row lock decides).
"""

from blinker import Namespace

_signals = Namespace()

# sender: the Flask app; kwargs: donation
donation_succeeded = _signals.signal("donation-succeeded")
# sender: the Flask app; kwargs: donation, refunded_cents (the new total refunded)
donation_refunded = _signals.signal("donation-refunded")
# sender: the Flask app; kwargs: donation (a pending bank transfer the donor promised)
transfer_pledged = _signals.signal("transfer-pledged")
