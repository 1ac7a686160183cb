"""Staff accounts: creation, sign-in, invitations, deactivation and password-setting links.

Signing in costs one password-hash check whatever the address: an unknown or inactive
account is checked against a dummy hash, so the answer's timing tells nothing.
"""

import hashlib
from functools import cache

from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from legami import signals
from legami.extensions import db
from legami.models import User

RESET_MAX_AGE = 60 * 60 * 24
INVITE_MAX_AGE = 60 * 60 * 24 * 7


class AccountError(ValueError):
    pass


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


@cache
def _dummy_hash() -> str:
    return generate_password_hash("no account has this password")


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None, after one hash check."""
    user = find_user(email)
    if user is None or not user.is_active or not user.password_hash:
        check_password_hash(_dummy_hash(), password)
        return None
    return user if user.check_password(password) else None


def create_user(email: str, roles, password: str | None = None, name: str = "") -> User:
    email = normalise_email(email)
    if "@" not in email:
        raise AccountError("not an e-mail address")
    if find_user(email):
        raise AccountError("a user with this e-mail exists")
    user = User(email=email, name=name)
    user.set_roles(roles)
    if password:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def invite_user(email: str, roles, name: str = "") -> User:
    """Create the user without a password and mail a link to choose one."""
    user = create_user(email, roles, name=name)
    db.session.commit()
    signals.user_invited.send(
        current_app._get_current_object(), user=user, url=password_link(user, "auth.accept_invite")
    )
    return user


def request_password_reset(email: str) -> None:
    """Mail a reset link if the address belongs to an active user; say nothing either way."""
    user = find_user(email)
    if user and user.is_active:
        signals.password_reset_requested.send(
            current_app._get_current_object(),
            user=user,
            url=password_link(user, "auth.reset_password"),
        )


def set_active(user: User, active: bool) -> None:
    """Activate or deactivate; deactivating ends the user's sessions at once."""
    user.active = active
    if not active:
        user.end_sessions()
    db.session.commit()


def log_out(user: User) -> None:
    """End every session of the user (a copied cookie stops working)."""
    user.end_sessions()
    db.session.commit()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="legami-password")


def _fingerprint(user: User) -> str:
    # Changes when the password does, so a link works once.
    return hashlib.sha256((user.password_hash or "unset").encode()).hexdigest()[:16]


def password_link(user: User, endpoint: str) -> str:
    token = _serializer().dumps({"uid": user.id, "fp": _fingerprint(user)})
    base = current_app.config["BASE_URL"]
    return base + url_for(endpoint, token=token)


def user_from_token(token: str, max_age: int) -> User | None:
    try:
        data = _serializer().loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    user = db.session.get(User, data.get("uid"))
    if user is None or not user.is_active or data.get("fp") != _fingerprint(user):
        return None
    return user
