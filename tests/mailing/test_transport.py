"""The sending layer: SMTP (real aiosmtpd server) or the outbox folder staff can browse."""

import gc
import smtplib
import warnings
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from mailing.transport import MailConfigError, SmtpSettings, send


def _message(to="anna@example.org") -> EmailMessage:
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = "Prova àèì"
    message.set_content("Riga uno\nRiga due: è così.\n")
    return message


def _recent(date_header) -> bool:
    sent = parsedate_to_datetime(str(date_header))
    if sent.tzinfo is None:  # "-0000": UTC, the sender's own zone not given (RFC 5322 3.3)
        sent = sent.replace(tzinfo=UTC)
    return abs(datetime.now(UTC) - sent) < timedelta(minutes=1)


def _outbox(app) -> list[Path]:
    return sorted(Path(app.config["OUTBOX_FOLDER"]).glob("*.eml"))


def test_smtp_with_auth_sends_complete_headers(app, smtp_server):
    message_id = send(_message())
    [received] = smtp_server.messages
    assert received["To"] == "anna@example.org"
    assert received["From"] == app.config["MAIL_FROM"] == "Legami <noreply@legami.local>"
    assert received["Subject"] == "Prova àèì"
    assert received["Message-ID"] == message_id and message_id.endswith("@localhost>")
    assert _recent(received["Date"])
    assert received.get_content().replace("\r\n", "\n") == "Riga uno\nRiga due: è così.\n"
    assert smtp_server.envelopes == [("noreply@legami.local", ["anna@example.org"])]
    assert smtp_server.logins == ["legami"]
    assert _outbox(app) == []  # SMTP configured: nothing kept locally


def test_each_message_gets_its_own_message_id(app, smtp_server):
    first, second = send(_message()), send(_message("bruno@example.org"))
    assert first != second
    assert [m["Message-ID"] for m in smtp_server.messages] == [first, second]
    assert [to for _, [to] in smtp_server.envelopes] == ["anna@example.org", "bruno@example.org"]


def test_headers_already_set_are_kept(app, smtp_server):
    message = _message()
    message["From"] = "Associazione <info@example.org>"
    message["Message-ID"] = "<fisso@example.org>"
    assert send(message) == "<fisso@example.org>"
    [received] = smtp_server.messages
    assert received["From"] == "Associazione <info@example.org>"
    assert received["Message-ID"] == "<fisso@example.org>"
    assert smtp_server.envelopes[0][0] == "info@example.org"


def test_smtp_wrong_password_sends_nothing_and_closes_the_socket(app, smtp_server):
    app.config["SMTP_URL"] = smtp_server.url.replace("smtp-secret", "wrong")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            send(_message())
        assert refused.value.smtp_code == 535
        del refused
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert smtp_server.messages == [] and smtp_server.logins == []
    assert _outbox(app) == []


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
    assert SmtpSettings.from_url("smtps://mail.example").port == 465
    for bad in ("http://mail.example", "smtp://", "mail.example:25"):
        with pytest.raises(MailConfigError):
            SmtpSettings.from_url(bad)


@pytest.mark.parametrize("url", ["http://mail.example", "smtp://", "mail.example:25"])
def test_an_invalid_smtp_url_refuses_to_send(app, url):
    app.config["SMTP_URL"] = url
    with pytest.raises(MailConfigError):
        send(_message())
    assert _outbox(app) == []  # not silently diverted to the outbox


def test_opportunistic_starttls_sends_in_clear_when_not_offered(app, smtp_server):
    # The test server offers no STARTTLS; without ?starttls=required the mail still goes.
    send(_message())
    assert len(smtp_server.messages) == 1


def test_starttls_required_refuses_a_server_without_it(app, smtp_server):
    app.config["SMTP_URL"] = smtp_server.url + "?starttls=required"
    with pytest.raises(MailConfigError):
        send(_message())
    assert smtp_server.messages == [] and smtp_server.logins == []


def test_outbox_writes_one_crlf_message_with_the_headers(app):
    message_id = send(_message())
    [path] = _outbox(app)
    raw = path.read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert parsed["From"] == "Legami <noreply@legami.local>"
    assert parsed["To"] == "anna@example.org"
    assert parsed["Subject"] == "Prova àèì"
    assert parsed["Message-ID"] == message_id
    assert _recent(parsed["Date"])
    assert parsed.get_content().replace("\r\n", "\n") == "Riga uno\nRiga due: è così.\n"


def test_staff_can_read_the_outbox(app, client, login):
    send(_message())
    [path] = _outbox(app)
    login("staff")
    listing = client.get("/staff/outbox/")
    assert listing.status_code == 200
    assert "anna@example.org" in listing.text and "Prova àèì" in listing.text
    assert f'href="/staff/outbox/{path.name}"' in listing.text
    page = client.get(f"/staff/outbox/{path.name}")
    assert page.status_code == 200
    assert "Riga uno" in page.text and "Riga due: è così." in page.text
    assert "noreply@legami.local" in page.text
    assert client.get("/staff/outbox/nessuno.eml").status_code == 404
    assert client.get("/staff/outbox/..%2Fsecret_key").status_code == 404


def test_the_outbox_is_for_staff_only(app, client, login):
    send(_message())
    [path] = _outbox(app)
    for url in ("/staff/outbox/", f"/staff/outbox/{path.name}"):
        anonymous = client.get(url)
        assert anonymous.status_code == 302
        assert "/staff/login" in anonymous.headers["Location"]
    login("treasurer")
    assert client.get("/staff/outbox/").status_code == 403
    assert client.get(f"/staff/outbox/{path.name}").status_code == 403
    client.post("/staff/logout")
    login("admin")
    assert client.get("/staff/outbox/").status_code == 200
    assert "Riga due: è così." in client.get(f"/staff/outbox/{path.name}").text
