"""Signals the shell emits; mailing listens, so the shell never imports it."""

from blinker import Namespace

_signals = Namespace()

# sender: the Flask app; kwargs: user, url
user_invited = _signals.signal("user-invited")
password_reset_requested = _signals.signal("password-reset-requested")
