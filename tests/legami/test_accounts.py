"""Invitations and password resets, through the real SMTP server."""

import re

from sqlalchemy import select

from legami.extensions import db
from legami.models import User
from tests import factories


def _link(message) -> str:
    body = message.get_content()
    return re.search(r"http://localhost(/staff/\S+)", body).group(1)


def test_invitation_sets_a_password_once(client, login, smtp_server):
    login("admin")
    response = client.post(
        "/staff/users/invite",
        data={"email": "Nuova@Example.org", "name": "Nuova", "roles": "staff"},
    )
    assert response.status_code == 302
    [mail] = smtp_server.messages
    assert mail["To"] == "nuova@example.org"
    assert mail["Subject"] == "Il tuo account dello staff di Legami"
    link = _link(mail)
    client.post("/staff/logout")
    assert client.get(link).status_code == 200
    done = client.post(
        link, data={"password": "una password lunga", "confirm": "una password lunga"}
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/staff/")
    user = db.session.scalar(select(User).where(User.email == "nuova@example.org"))
    assert user.role_names == {"staff"} and user.check_password("una password lunga")
    client.post("/staff/logout")
    again = client.get(link)
    assert again.status_code == 302 and "/staff/password/forgot" in again.headers["Location"]
    ok = client.post(
        "/staff/login", data={"email": "nuova@example.org", "password": "una password lunga"}
    )
    assert ok.status_code == 302


def test_password_reset_mails_only_active_users(client, smtp_server):
    user = factories.user(password="vecchia password", email="anna@example.org")
    quiet = factories.user(password="x" * 12, email="spenta@example.org")
    quiet.active = False
    db.session.commit()
    known = client.post("/staff/password/forgot", data={"email": "anna@example.org"})
    unknown = client.post("/staff/password/forgot", data={"email": "nessuno@example.org"})
    client.post("/staff/password/forgot", data={"email": "spenta@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    [mail] = smtp_server.messages
    assert mail["To"] == "anna@example.org"
    assert mail["Subject"] == "Reimposta la tua password di Legami"
    link = _link(mail)
    client.post(
        link, data={"password": "nuova password sicura", "confirm": "nuova password sicura"}
    )
    client.post("/staff/logout")
    db.session.refresh(user)
    assert user.check_password("nuova password sicura")
    assert not user.check_password("vecchia password")
    assert (
        client.post(
            link, data={"password": "terza password", "confirm": "terza password"}
        ).status_code
        == 302
    )
    db.session.refresh(user)
    assert user.check_password("nuova password sicura")


def test_a_deactivated_user_cannot_log_in(client, login):
    admin = login("admin")
    other = factories.user(password="una password lunga")
    client.post(f"/staff/users/{other.id}/active")
    assert db.session.get(User, other.id).active is False
    client.post("/staff/logout")
    refused = client.post(
        "/staff/login", data={"email": other.email, "password": "una password lunga"}
    )
    assert refused.status_code == 422
    assert admin.active
