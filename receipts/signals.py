"""What receipts tell the rest of Legami (mailing listens; receipts import no mailing).

Sent inside the transaction that made the change; receivers only write rows (queue a mail).
"""

from blinker import Namespace

_signals = Namespace()

# sender: the Flask app; kwargs: receipt_id (a per-gift receipt, first issue or a reissue,
# or an annual receipt)
receipt_issued = _signals.signal("receipt-issued")
# sender: the Flask app; kwargs: receipt_id (staff asked to send the receipt to the donor again,
# or it was issued on request after the thank-you went: receipts.on_request)
receipt_send_requested = _signals.signal("receipt-send-requested")
