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
# sender: the Flask app; kwargs: donation_id (a confirmed gift is pending again: the bank
# reversed its transfer before anything was issued for it; see treasury.reverse_transfer)
donation_unconfirmed = _signals.signal("donation-unconfirmed")
# A question rather than news. sender: the Flask app; kwargs: donation_id. Each receiver
# returns True when a document it issued for the gift (a valid receipt) fixes the gift's
# amount and date, so that it may no longer be re-dated or taken back to pending. Asked
# before the gift's row is locked; a receiver may lock what keeps its answer true until the
# asking transaction ends.
gift_documented = _signals.signal("gift-documented")
