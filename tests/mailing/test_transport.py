"""The sending layer: SMTP (real aiosmtpd server) or the outbox folder staff can browse."""

from email.message import EmailMessage
from pathlib import Path

import pytest

from mailing.transport import MailConfigError, SmtpSettings, send


def _message(to="anna@example.org") -> EmailMessage:
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = "Prova àèì"
    message.set_content("Riga uno\nRiga due: è così.\n")
    return message


def test_smtp_with_auth_sends_complete_headers(app, smtp_server):
    message_id = send(_message())
    [received] = smtp_server.messages
    assert received["To"] == "anna@example.org"
    assert received["From"] == app.config["MAIL_FROM"]
    assert received["Subject"] == "Prova àèì"
    assert received["Message-ID"] == message_id and message_id.endswith("@localhost>")
    assert received["Date"]
    assert received.get_content().replace("\r\n", "\n") == "Riga uno\nRiga due: è così.\n"
    assert smtp_server.logins == ["legami"]


def test_smtp_wrong_password_sends_nothing(app, smtp_server):
    app.config["SMTP_URL"] = smtp_server.url.replace("smtp-secret", "wrong")
    with pytest.raises(OSError):
        send(_message())
    assert smtp_server.messages == []


def test_smtp_settings_from_url():
    assert SmtpSettings.from_url("smtps://u%40x:p%2Fw@mail.example:2465") == SmtpSettings(
        host="mail.example",
        port=2465,
        implicit_tls=True,
        starttls_required=False,
        username="u@x",
        password="p/w",
    )
    plain = SmtpSettings.from_url("smtp://mail.example?starttls=required")
    assert (plain.port, plain.starttls_required, plain.username) == (587, True, None)
    for bad in ("http://mail.example", "smtp://", "mail.example:25"):
        with pytest.raises(MailConfigError):
            SmtpSettings.from_url(bad)


def test_starttls_required_refuses_a_server_without_it(app, smtp_server):
    app.config["SMTP_URL"] = smtp_server.url + "?starttls=required"
    with pytest.raises(MailConfigError):
        send(_message())
    assert smtp_server.messages == []


def test_outbox_keeps_the_message_and_staff_can_read_it(app, client, login):
    message_id = send(_message())
    [path] = Path(app.config["OUTBOX_FOLDER"]).glob("*.eml")
    raw = path.read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert message_id.encode() in raw
    assert client.get("/staff/outbox/").status_code == 302  # anonymous: to the login page
    login("treasurer")
    assert client.get("/staff/outbox/").status_code == 403
    client.post("/staff/logout")
    login("staff")
    listing = client.get("/staff/outbox/").text
    assert "anna@example.org" in listing and "Prova àèì" in listing
    page = client.get(f"/staff/outbox/{path.name}").text
    assert "Riga due: è così." in page
    assert client.get("/staff/outbox/..%2Fsecret_key").status_code == 404
