"""Invitations, password resets and deactivation, with mail through the real SMTP server."""

import re

from sqlalchemy import select

from legami.extensions import db
from legami.models import User
from tests import factories

EXPIRED = "Questo link è scaduto o è già stato usato. Chiedine uno nuovo."
RESET_SENT = "Se l&#39;indirizzo appartiene a un account dello staff"


def _link(message) -> str:
    body = message.get_content()
    [link] = re.findall(r"http://localhost(/staff/\S+)", body)
    return link


def _log_in(client, email: str, password: str):
    return client.post("/staff/login", data={"email": email, "password": password})


def test_invitation_sets_a_password_once(client, login, smtp_server):
    login("admin")
    response = client.post(
        "/staff/users/invite",
        data={"email": "Nuova@Example.org", "name": "Nuova", "roles": "staff"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/users")
    user = db.session.scalar(select(User).where(User.email == "nuova@example.org"))
    assert user.name == "Nuova" and user.role_names == {"staff"}
    assert user.password_hash is None and user.active

    [mail] = smtp_server.messages
    assert smtp_server.envelopes == [("noreply@legami.local", ["nuova@example.org"])]
    assert smtp_server.logins == ["legami"]
    assert mail["To"] == "nuova@example.org"
    assert mail["From"] == "Legami <noreply@legami.local>"
    assert mail["Subject"] == "Il tuo account dello staff di Legami"
    assert mail["Message-ID"] and mail["Date"]
    body = mail.get_content()
    assert "Ciao Nuova," in body and "ti è stato creato un account dello staff" in body
    link = _link(mail)
    assert link.startswith("/staff/invitation/")

    client.post("/staff/logout")
    form = client.get(link)
    assert form.status_code == 200 and 'name="password"' in form.text
    mismatch = client.post(link, data={"password": "una password lunga", "confirm": "altra"})
    assert mismatch.status_code == 200
    assert db.session.get(User, user.id).password_hash is None
    done = client.post(
        link, data={"password": "una password lunga", "confirm": "una password lunga"}
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/staff/")
    assert client.get("/staff/").status_code == 200  # logged in as the new user
    assert db.session.get(User, user.id).check_password("una password lunga")

    client.post("/staff/logout")
    assert client.get("/staff/").status_code == 302
    assert _log_in(client, "nuova@example.org", "una password lunga").status_code == 302
    assert client.get("/staff/").status_code == 200
    client.post("/staff/logout")

    again = client.get(link)
    assert again.status_code == 302 and again.headers["Location"].endswith("/staff/password/forgot")
    assert EXPIRED in client.get(again.headers["Location"]).text
    reused = client.post(link, data={"password": "terza password", "confirm": "terza password"})
    assert reused.headers["Location"].endswith("/staff/password/forgot")
    assert db.session.get(User, user.id).check_password("una password lunga")
    assert len(smtp_server.messages) == 1


def test_inviting_an_existing_address_sends_nothing(client, login, smtp_server):
    login("admin")
    factories.user(email="gia@example.org")
    response = client.post(
        "/staff/users/invite", data={"email": "GIA@example.org", "name": "", "roles": "staff"}
    )
    assert response.status_code == 422
    assert smtp_server.messages == []
    assert db.session.scalars(select(User).where(User.email == "gia@example.org")).all()


def test_password_reset_through_smtp(client, smtp_server):
    user = factories.user(password="vecchia password", email="anna@example.org")
    response = client.post("/staff/password/forgot", data={"email": "Anna@Example.org"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/login")
    [mail] = smtp_server.messages
    assert smtp_server.envelopes == [("noreply@legami.local", ["anna@example.org"])]
    assert mail["To"] == "anna@example.org"
    assert mail["Subject"] == "Reimposta la tua password di Legami"
    assert "qualcuno ha chiesto di reimpostare la password" in mail.get_content()
    link = _link(mail)
    assert link.startswith("/staff/password/reset/")

    assert client.get(link).status_code == 200
    done = client.post(
        link, data={"password": "nuova password sicura", "confirm": "nuova password sicura"}
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/staff/")
    assert client.get("/staff/").status_code == 200
    client.post("/staff/logout")

    db.session.refresh(user)
    assert user.check_password("nuova password sicura")
    assert _log_in(client, "anna@example.org", "vecchia password").status_code == 422
    assert client.get("/staff/").status_code == 302
    assert _log_in(client, "anna@example.org", "nuova password sicura").status_code == 302
    client.post("/staff/logout")

    # The link works once: the password it was made for has changed.
    reused = client.post(link, data={"password": "terza password", "confirm": "terza password"})
    assert reused.status_code == 302
    assert reused.headers["Location"].endswith("/staff/password/forgot")
    db.session.refresh(user)
    assert user.check_password("nuova password sicura")


def test_password_reset_does_not_tell_who_has_an_account(client, smtp_server):
    factories.user(email="anna@example.org")
    known = client.post("/staff/password/forgot", data={"email": "anna@example.org"})
    known_page = client.get(known.headers["Location"])
    unknown = client.post("/staff/password/forgot", data={"email": "nessuno@example.org"})
    unknown_page = client.get(unknown.headers["Location"])
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert RESET_SENT in known_page.text and RESET_SENT in unknown_page.text
    assert known_page.text == unknown_page.text
    assert [to for _, [to] in smtp_server.envelopes] == ["anna@example.org"]


def test_deactivated_users_get_no_reset_mail(client, smtp_server):
    quiet = factories.user(password="x" * 12, email="spenta@example.org")
    quiet.active = False
    db.session.commit()
    response = client.post("/staff/password/forgot", data={"email": "spenta@example.org"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/login")
    assert smtp_server.messages == []


def test_a_link_stops_working_when_the_user_is_deactivated(client, login, smtp_server):
    user = factories.user(password="vecchia password", email="anna@example.org")
    client.post("/staff/password/forgot", data={"email": "anna@example.org"})
    link = _link(smtp_server.messages[0])
    login("admin")
    client.post(f"/staff/users/{user.id}/active")
    client.post("/staff/logout")
    refused = client.post(link, data={"password": "nuova password", "confirm": "nuova password"})
    assert refused.headers["Location"].endswith("/staff/password/forgot")
    db.session.refresh(user)
    assert user.check_password("vecchia password")


def test_a_deactivated_user_cannot_log_in(app, client, login):
    admin = login("admin")
    other = factories.user(password="una password lunga")
    their_browser = app.test_client()
    assert _log_in(their_browser, other.email, "una password lunga").status_code == 302
    assert their_browser.get("/staff/").status_code == 200

    toggled = client.post(f"/staff/users/{other.id}/active")
    assert toggled.status_code == 302
    assert db.session.get(User, other.id).active is False

    # The session they already had ends too.
    kicked = their_browser.get("/staff/")
    assert kicked.status_code == 302 and "/staff/login" in kicked.headers["Location"]
    client.post("/staff/logout")
    refused = _log_in(client, other.email, "una password lunga")
    assert refused.status_code == 422
    assert client.get("/staff/").status_code == 302
    assert db.session.get(User, admin.id).active

    # Reactivated: they can log in again.
    login("admin")
    client.post(f"/staff/users/{other.id}/active")
    client.post("/staff/logout")
    assert _log_in(client, other.email, "una password lunga").status_code == 302


def test_an_admin_cannot_deactivate_themselves(client, login):
    admin = login("admin")
    assert client.post(f"/staff/users/{admin.id}/active").status_code == 400
    assert db.session.get(User, admin.id).active
