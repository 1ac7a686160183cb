"""What payments tells the rest of Legami.

Each is sent once per change, by the one process that made it (the row lock decides), inside
that change's transaction before it commits. Receivers only write to the database (queue a
mail, issue a receipt), never wait on the network; if one raises, the change rolls back and
the webhook answers 500, so Stripe delivers it again.
"""

from blinker import Namespace

_signals = Namespace()

# sender: the Flask app; kwargs: donation_id
donation_succeeded = _signals.signal("donation-succeeded")
# sender: the Flask app; kwargs: donation_id, refunded_cents (the new total refunded)
donation_refunded = _signals.signal("donation-refunded")
# sender: the Flask app; kwargs: donation_id, dispute_status (open, won or lost)
donation_disputed = _signals.signal("donation-disputed")
# sender: the Flask app; kwargs: donation_id (a pending bank transfer the donor promised)
transfer_pledged = _signals.signal("transfer-pledged")
