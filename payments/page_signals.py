"""What personal fundraising pages tell the rest of Legami (mailing listens), sent inside the
transaction of the change, as payments.signals are."""

from blinker import Namespace

_signals = Namespace()

# sender: the Flask app; kwargs: donor_id (the owner of pages waiting for their confirmation)
page_confirmation_requested = _signals.signal("page-confirmation-requested")
# sender: the Flask app; kwargs: donation_id, page_id (a gift through the page succeeded)
page_gift_received = _signals.signal("page-gift-received")
# sender: the Flask app; kwargs: donation_id (the gift that reached it), page_id
page_goal_reached = _signals.signal("page-goal-reached")
# sender: the Flask app; kwargs: page_id (its owner's thank-you is to be relayed)
page_thanks_relayed = _signals.signal("page-thanks-relayed")
