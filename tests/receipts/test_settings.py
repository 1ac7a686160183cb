"""The treasurer's receipt settings page: saved whole and audited, or refused with a message
and nothing stored; the next receipt follows the new number format."""

import io

import pytest
from sqlalchemy import func, select

from legami.extensions import db
from legami.models import AuditEntry
from receipts import issuing, numbering
from receipts.models import Receipt, ReceiptSettings
from tests import factories
from tests.receipts.conftest import card_gift, pdf_text

pytestmark = pytest.mark.usefixtures("english")


def _form(**overrides) -> dict:
    return {
        "policy": "both",
        "threshold": "25,50",
        "number_format": "RIC-{year}-{number:05d}",
        "say_copy_on_redownload": "y",
        "delivery": "after",
        "stamp_duty_line": "Imposta di bollo assolta in modo virtuale.",
        "legal_basis": "Art Bonus (art. 1 D.L. 83/2014)",
        **overrides,
    }


def _settings(org_id: int) -> ReceiptSettings:
    db.session.expire_all()
    return db.session.get(ReceiptSettings, org_id)


def _audited() -> list[AuditEntry]:
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "receipts.settings")
    ).all()


def test_the_treasurer_saves_the_settings_and_the_next_receipt_follows_them(
    webhooks, client, login
):
    campaign = factories.campaign()
    org = campaign.organisation
    user = login("treasurer")
    listing = client.get("/staff/receipts")
    assert 'href="/staff/receipts/settings"' in listing.text
    index = client.get("/staff/receipts/settings")
    assert index.status_code == 200 and org.name in index.text
    page = client.get(f"/staff/receipts/settings/{org.id}")
    assert page.status_code == 200 and 'value="{year}/{number:06d}"' in page.text

    signature = (io.BytesIO(factories.image_bytes()), "firma.png")
    answer = client.post(
        f"/staff/receipts/settings/{org.id}",
        data=_form(signature_image=signature),
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302, answer.text
    saved = _settings(org.id)
    assert (saved.policy, saved.threshold_cents, saved.delivery) == ("both", 2550, "after")
    assert saved.number_format == "RIC-{year}-{number:05d}" and saved.say_copy_on_redownload
    assert saved.signature and saved.signature.endswith(".png")
    assert saved.legal_basis.startswith("Art Bonus")
    [entry] = _audited()
    assert entry.user_id == user.id and entry.target == f"organisation:{org.id}"
    assert entry.detail["changes"]["number_format"] == [
        "{year}/{number:06d}",
        "RIC-{year}-{number:05d}",
    ]
    assert 'value="25,50"' in client.get(f"/staff/receipts/settings/{org.id}").text

    donation = card_gift(client, campaign, amount_cents=3000)
    receipt = db.session.scalar(select(Receipt).where(Receipt.donation_id == donation.id))
    assert receipt.display_number == f"RIC-{receipt.year}-00001"
    assert receipt.snapshot["issuer"]["signature"] == saved.signature
    assert f"RIC-{receipt.year}-00001" in pdf_text(
        client.get(f"/staff/receipts/{receipt.id}/pdf").data
    )

    client.post(
        f"/staff/receipts/settings/{org.id}", data=_form(remove_signature="y", threshold="0")
    )
    assert _settings(org.id).signature is None and _settings(org.id).threshold_cents == 0


@pytest.mark.parametrize(
    ("number_format", "message"),
    [
        ("{year}", "must contain {number}"),
        ("", "must contain {number}"),
        ("{year}/{numero}", "not {numero}"),
        ("{number.real}", "not {number.real}"),
        ("{number!r}", "not {number!r}"),
        ("{number:xx}", "format spec does not suit"),
        ("{year}/{number", "Unbalanced braces"),
        ("R" * 55 + "{number}", "longer than 60 characters"),
    ],
)
def test_a_bad_number_format_is_refused_and_nothing_changes(client, login, number_format, message):
    org = factories.organisation()
    before = issuing.settings_for(org.id).number_format
    db.session.commit()
    login("treasurer")
    answer = client.post(
        f"/staff/receipts/settings/{org.id}", data=_form(number_format=number_format)
    )
    assert answer.status_code == 422
    assert message in answer.text.replace("&#34;", '"').replace("&#39;", "'")
    saved = _settings(org.id)
    assert (saved.number_format, saved.policy, saved.threshold_cents) == (before, "per_gift", 0)
    assert not saved.say_copy_on_redownload and _audited() == []


def test_a_bad_threshold_is_refused(client, login):
    org = factories.organisation()
    login("treasurer")
    answer = client.post(f"/staff/receipts/settings/{org.id}", data=_form(threshold="tanti"))
    assert answer.status_code == 422 and "Write an amount in euros" in answer.text
    assert _settings(org.id).threshold_cents == 0 and _audited() == []


def test_the_format_check_admits_what_numbering_uses():
    assert numbering.format_problem("{year}/{number:06d}") is None
    assert numbering.format_problem("{number}") is None
    assert numbering.format_problem("{{{number}}}/{year:04d}") is None
    assert numbering.display_number("{{{number}}}/{year:04d}", 2026, 7) == "{7}/2026"


@pytest.mark.parametrize(("role", "status"), [("staff", 403), ("treasurer", 200), ("admin", 200)])
def test_only_treasurers_and_admins_change_the_settings(client, login, role, status):
    org = factories.organisation()
    login(role)
    assert client.get("/staff/receipts/settings").status_code == status
    assert client.get(f"/staff/receipts/settings/{org.id}").status_code == status
    answer = client.post(f"/staff/receipts/settings/{org.id}", data=_form())
    assert answer.status_code == (302 if status == 200 else 403)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == (status == 200)


def test_a_signature_that_is_not_an_image_is_refused(client, login):
    org = factories.organisation()
    login("treasurer")
    answer = client.post(
        f"/staff/receipts/settings/{org.id}",
        data=_form(signature_image=(io.BytesIO(b"%PDF-1.7 not an image"), "firma.pdf")),
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422 and "Upload a JPEG, PNG or WebP image." in answer.text
    assert _settings(org.id).signature is None and _settings(org.id).policy == "per_gift"
