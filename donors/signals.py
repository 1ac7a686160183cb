"""What donors tells the rest of Legami; mailing listens, so donors never imports it.

Sent inside the change's transaction: a receiver only queues work in the same session, so the
mail is queued if and only if the change commits.
"""

from blinker import Namespace

_signals = Namespace()

# sender: the Flask app; kwargs: donor_id (a double opt-in request to confirm by mail)
newsletter_requested = _signals.signal("newsletter-requested")
# sender: the Flask app; kwargs: donor_id (the donor asked for a portal link)
portal_link_requested = _signals.signal("portal-link-requested")
