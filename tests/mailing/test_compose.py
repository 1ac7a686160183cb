"""Newsletter mail as received by a real SMTP server: headers, parts, personalisation,
language, blocks, unsubscribe and tracking."""

import re
from collections import namedtuple
from email import message_from_bytes
from email import policy as email_policy
from urllib.parse import urlsplit

import pytest
from flask import current_app
from sqlalchemy import event

from donors.models import Donor
from legami.extensions import db
from mailing import compose, transport
from mailing.models import Delivery, Newsletter, NewsletterVersion
from tests import factories

Recipient = namedtuple("Recipient", "id donor_id email first_name language")

BODY = """Ciao {{ first_name | "amica, amico" }},

grazie: ecco [il resoconto](https://example.org/resoconto?a=1&b=2).

[[campaign:orto-comune]]
"""


def _newsletter(**overrides) -> Newsletter:
    campaign = factories.campaign(
        slug="orto-comune", title="L'orto comune", raised_cents=123_450, goal_cents=500_000
    )
    row = Newsletter(
        organisation=campaign.organisation,
        title="Novembre",
        from_name="Legàmi Cremona",
        from_email="notizie@legami.example",
        reply_to="risposte@legami.example",
        **overrides,
    )
    row.versions = [
        NewsletterVersion(
            language="it", subject="Novità per {{ first_name }}", preheader="L'orto", body=BODY
        ),
        NewsletterVersion(
            language="en",
            subject='News for {{ first_name | "friend" }}',
            preheader="The garden",
            body='Hello {{ first_name | "friend" }},\n\n[[campaign:orto-comune]]\n',
        ),
    ]
    db.session.add(row)
    db.session.commit()
    return row


def _deliver(newsletter: Newsletter, *people) -> None:
    """Send through the real SMTP server, as the sender does: one connection, VERP envelope."""
    prepared = compose.prepare(newsletter)
    settings = transport.SmtpSettings.from_url(current_app.config["SMTP_URL"])
    with transport.connect(settings) as smtp:
        for person in people:
            smtp.send_message(
                prepared.message(person),
                from_addr=prepared.envelope_from(person),
                to_addrs=[person.email],
            )


def _body(message, subtype: str) -> str:
    return message.get_body((subtype,)).get_content()


def test_received_mail_has_headers_parts_personalisation_and_campaign_card(app, smtp_server):
    app.config["NEWSLETTER_BOUNCE_ADDRESS"] = "bounces@legami.example"
    newsletter = _newsletter()
    donor = factories.donor(email="anna@example.org", first_name="Anna")
    _deliver(
        newsletter,
        Recipient(41, donor.id, "anna@example.org", "Anna", "it"),
        Recipient(42, None, "nobody@example.org", "", "it"),
    )

    anna, unnamed = smtp_server.messages
    assert smtp_server.envelopes[0] == ("bounces+41@legami.example", ["anna@example.org"])
    assert anna["From"] == "Legàmi Cremona <notizie@legami.example>"
    assert anna["To"] == "anna@example.org"
    assert anna["Reply-To"] == "risposte@legami.example"
    assert anna["Subject"] == "Novità per Anna"
    assert anna["Date"]
    assert re.fullmatch(r"<nl\d+\.41\.[0-9a-f]{8}@localhost>", anna["Message-ID"])
    assert compose.delivery_from_message_id(anna["Message-ID"]) == 41
    assert compose.delivery_from_verp("bounces+41@legami.example") == 41

    https, mailto = [part.strip(" <>") for part in anna["List-Unsubscribe"].split(",")]
    assert https.startswith("http://localhost/disiscrizione/") and https.endswith("/one-click")
    assert mailto.startswith("mailto:unsubscribe@localhost?subject=unsubscribe%20")
    assert anna["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert anna.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in anna.iter_parts()] == ["text/plain", "text/html"]

    text, page = _body(anna, "plain"), _body(anna, "html")
    assert text.startswith("Ciao Anna,")
    assert "<p>Ciao Anna,</p>" in page
    assert "il resoconto (https://example.org/resoconto?a=1&b=2)" in text
    # The campaign card: title, raised of goal, the public page as the donate button.
    assert "L'orto comune" in text and "L&#39;orto comune" in page
    assert "1.234,50\xa0€" in text and "5.000\xa0€" in text
    assert "1.234,50\xa0€" in page and 'width="24%"' in page
    assert "http://localhost/campagne/orto-comune" in text
    assert 'href="http://localhost/campagne/orto-comune"' in page
    # The preheader, hidden at the top of the HTML.
    assert re.search(r'<div style="display:none[^"]*">L&#39;orto', page)
    # The footer: the organisation, and this donor's own unsubscribe link.
    unsubscribe = https.removesuffix("/one-click")
    assert unsubscribe in text and unsubscribe in page
    assert newsletter.organisation.name in text and "Via Roma 1" in page

    assert unnamed["Subject"] == "Novità per"  # tidied: no trailing space for an empty name
    assert _body(unnamed, "plain").startswith("Ciao amica, amico,")


def test_the_unsubscribe_links_withdraw_this_donors_consent(app, client, smtp_server):
    newsletter = _newsletter()
    donor = factories.donor(email="anna@example.org", newsletter_consent=True)
    _deliver(newsletter, Recipient(1, donor.id, donor.email, "Anna", "it"))
    https = smtp_server.messages[0]["List-Unsubscribe"].split(",")[0].strip(" <>")
    response = client.post(urlsplit(https).path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert db.session.get(Donor, donor.id).newsletter_consent is False


def test_english_donors_get_the_english_version_and_italian_without_one(app, smtp_server):
    newsletter = _newsletter()
    _deliver(
        newsletter,
        Recipient(1, None, "john@example.org", "", "en"),
        Recipient(2, None, "anna@example.org", "Anna", "it"),
    )
    john, anna = smtp_server.messages
    assert john["Subject"] == "News for friend"
    assert _body(john, "plain").startswith("Hello friend,")
    assert "http://localhost/campagne/orto-comune?lang=en" in _body(john, "plain")
    assert "raised of" in _body(john, "plain")
    assert anna["Subject"] == "Novità per Anna"

    italian_only = _newsletter_italian_only()
    message = compose.prepare(italian_only).message(Recipient(3, None, "j@example.org", "J", "en"))
    assert message["Subject"] == "Solo italiano"


def _newsletter_italian_only() -> Newsletter:
    row = Newsletter(organisation=factories.organisation(), title="Solo it")
    row.versions = [NewsletterVersion(language="it", subject="Solo italiano", body="Ciao")]
    db.session.add(row)
    db.session.commit()
    return row


def test_without_bounce_address_the_envelope_is_the_sender_and_verp_finds_nothing(app):
    newsletter = _newsletter()
    prepared = compose.prepare(newsletter)
    person = Recipient(7, None, "a@example.org", "", "it")
    assert prepared.envelope_from(person) == "notizie@legami.example"
    assert compose.delivery_from_verp("bounces+7@legami.example") is None


def test_forged_message_ids_find_no_delivery(app):
    good = compose.message_id(3, 99)
    assert compose.delivery_from_message_id(good) == 99
    assert compose.delivery_from_message_id(good.replace(".99.", ".98.")) is None
    assert compose.delivery_from_message_id("<abc@example.org>") is None
    assert compose.delivery_from_message_id("") is None


def test_tracking_off_leaves_links_and_no_pixel(app):
    newsletter = _newsletter()
    page = _body(
        compose.prepare(newsletter).message(Recipient(1, None, "a@x.org", "", "it")), "html"
    )
    assert "/m/o/" not in page and "/m/c/" not in page
    assert 'href="https://example.org/resoconto?a=1&amp;b=2"' in page


def test_tracking_on_records_the_first_open_and_click_and_redirects_to_signed_links(app, client):
    newsletter = _newsletter(track_engagement=True)
    delivery = Delivery(newsletter_id=newsletter.id, email="a@example.org", status="sent")
    db.session.add(delivery)
    db.session.commit()
    page = _body(
        compose.prepare(newsletter).message(Recipient(delivery.id, None, delivery.email, "", "it")),
        "html",
    )
    pixel = re.search(r'<img src="http://localhost(/m/o/[^"]+)"', page).group(1)
    links = re.findall(r'href="http://localhost(/m/c/[^"]+)"', page)
    assert len(links) == 3  # the report, the card's title and its donate button

    assert client.get(pixel).headers["Content-Type"] == "image/gif"
    opened = db.session.get(Delivery, delivery.id).opened_at
    assert opened is not None
    response = client.get(links[0])
    assert response.status_code == 302
    assert response.headers["Location"] == "https://example.org/resoconto?a=1&b=2"
    clicked = db.session.get(Delivery, delivery.id).clicked_at
    assert clicked is not None
    client.get(pixel)
    client.get(links[1])
    again = db.session.get(Delivery, delivery.id)
    assert (again.opened_at, again.clicked_at) == (opened, clicked)

    # Only signed links redirect: an address put in by hand goes nowhere.
    token = links[0].split("/")[3]
    forged = compose.link_token(newsletter.id, "https://evil.example").replace(".", ".x", 1)
    assert client.get(f"/m/c/{token}/{forged}").status_code == 404


def test_tracking_tokens_do_nothing_for_a_newsletter_without_tracking(app, client):
    newsletter = _newsletter()
    delivery = Delivery(newsletter_id=newsletter.id, email="a@example.org", status="sent")
    db.session.add(delivery)
    db.session.commit()
    client.get(f"/m/o/{compose.tracking_token(delivery.id)}.gif")
    assert db.session.get(Delivery, delivery.id).opened_at is None


def test_markup_in_the_body_and_names_is_escaped(app):
    newsletter = _newsletter()
    newsletter.versions[0].body = "Ciao {{ first_name }} <script>alert(1)</script>"
    db.session.commit()
    person = Recipient(1, None, "a@x.org", "<b>Eve</b>", "it")
    page = _body(compose.prepare(newsletter).message(person), "html")
    assert "<script>" not in page and "<b>Eve</b>" not in page
    assert "&lt;b&gt;Eve&lt;/b&gt;" in page


def test_rendering_reads_no_database_and_writes_wire_ready_bytes(app):
    """Per recipient only strings are joined: no query, and bytes an SMTP server takes as
    they are (ASCII, CRLF line ends only, no line over 998 characters)."""
    prepared = compose.prepare(_newsletter())
    people = [Recipient(i, i, f"p{i}@example.org", "Anna", "it") for i in range(50)]
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        rendered = [prepared.render(person) for person in people]
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert statements == []
    data = rendered[7].data
    data.decode("ascii")
    assert b"\n" not in data.replace(b"\r\n", b"") and b"\r" not in data.replace(b"\r\n", b"")
    assert max(map(len, data.split(b"\r\n"))) <= 998
    parsed = message_from_bytes(data, policy=email_policy.default)
    assert parsed["To"] == "p7@example.org"
    assert parsed["Message-ID"] == rendered[7].message_id
    assert parsed["Subject"] == "Novità per Anna"


def test_the_header_shows_the_organisations_logo_when_it_has_one(app):
    newsletter = _newsletter()
    person = Recipient(1, None, "a@x.org", "", "it")
    assert "/uploads/" not in _body(compose.prepare(newsletter).message(person), "html")
    newsletter.organisation.logo = "3f2a9c.png"
    db.session.commit()
    page = _body(compose.prepare(newsletter).message(person), "html")
    assert f'<img src="{current_app.config["BASE_URL"]}/uploads/3f2a9c.png"' in page


@pytest.mark.parametrize(
    "subject",
    [
        "Hello Anna",
        "A long subject line " * 8,
        "Novità dall'orto: più verdure, più famiglie, più laboratori per tutta la città di Cremona",
        "Crème brûlée 🌱 " * 6,
        "=?utf-8?q?not_an_encoded_word?=",
        "Line\r\nBcc: injected@example.org",
    ],
)
def test_any_subject_is_folded_and_read_back_as_written(subject):
    line = compose._header("Subject", subject)
    assert line.endswith("\r\n") and line.isascii()
    assert all(len(part) <= 78 for part in line.split("\r\n"))
    parsed = message_from_bytes(line.encode() + b"\r\nbody", policy=email_policy.default)
    assert parsed["Subject"] == subject.replace("\r", " ").replace("\n", " ")
    assert parsed["Bcc"] is None


@pytest.mark.parametrize("text", ["{{ first_name }}", '{{first_name|"amica"}}'])
def test_first_name_tokens_are_recognised(text):
    assert compose.bad_tokens(text) == []


def test_other_tokens_are_reported():
    assert compose.bad_tokens("Ciao {{ nome }} e {{ first_name | amica }}") == [
        "{{ nome }}",
        "{{ first_name | amica }}",
    ]


@pytest.mark.browser
def test_the_layout_is_600px_wide_on_a_desktop_and_fits_a_phone(app, page):
    newsletter = _newsletter()
    page_html = _body(
        compose.prepare(newsletter).message(Recipient(1, None, "a@x.org", "", "it")), "html"
    )
    widths = {}
    for viewport in (1024, 375):
        page.set_viewport_size({"width": viewport, "height": 800})
        page.set_content(page_html)
        widths[viewport] = page.eval_on_selector(".column", "t => t.getBoundingClientRect().width")
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= viewport
    assert widths[1024] == 600
    assert widths[375] < 375


def test_pact_and_lab_blocks_link_to_their_public_pages(app):
    factories.pact(slug="patto-orti", title="Patto degli orti")
    factories.lab(slug="lab-compost", title="Compostiamo", schedule="Il martedì alle 18")
    row = Newsletter(organisation=factories.organisation(), title="Blocchi")
    row.versions = [
        NewsletterVersion(
            language="it", subject="Blocchi", body="[[pact:patto-orti]]\n\n[[lab:lab-compost]]"
        )
    ]
    db.session.add(row)
    db.session.commit()
    message = compose.prepare(row).message(Recipient(1, None, "a@x.org", "", "it"))
    text, page = _body(message, "plain"), _body(message, "html")
    assert "Patto degli orti" in text and "http://localhost/patti/patto-orti" in text
    assert "Compostiamo" in page and 'href="http://localhost/laboratori/lab-compost"' in page
    assert "Il martedì alle 18" in text
