"""Donations, monthly gifts, refunds and the payment provider's events."""

import enum
import secrets
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.models import Campaign
from donors.models import Donor
from legami.extensions import db
from legami.models import Organisation, one_of
from legami.timeutil import UTCDateTime, now_utc
from payments.methods import Method, deductible_check, is_deductible


class Status(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"
    # Paid at Stripe, but not the amount or currency Legami asked for: counted in no total
    # until the treasurer resolves it (payments.webhooks).
    REVIEW = "review"


class Frequency(enum.StrEnum):
    ONE_OFF = "one_off"
    MONTHLY = "monthly"


class RecurringStatus(enum.StrEnum):
    INCOMPLETE = "incomplete"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELLED = "cancelled"


def new_token() -> str:
    return secrets.token_urlsafe(18)


class RecurringGift(db.Model):
    """A monthly gift: a Stripe Subscription; each paid invoice makes one Donation."""

    __tablename__ = "recurring_gifts"
    __table_args__ = (
        one_of("status", RecurringStatus),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True, default=new_token)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    status: Mapped[str] = mapped_column(String(20), default=RecurringStatus.INCOMPLETE)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(100))
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The provider's time of the event that set `status`: older news never overrides it.
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    donor: Mapped[Donor] = relationship()
    campaign: Mapped[Campaign] = relationship()


class Donation(db.Model):
    __tablename__ = "donations"
    __table_args__ = (
        one_of("status", Status),
        one_of("method", Method),
        CheckConstraint(deductible_check(), name="deductible_by_method"),
        one_of("frequency", Frequency),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("fee_cents >= 0 AND fee_cents < amount_cents", name="fee_in_amount"),
        CheckConstraint(
            "refunded_cents >= 0 AND refunded_cents <= amount_cents", name="refund_in_amount"
        ),
        CheckConstraint(
            "dispute_status IS NULL OR dispute_status IN ('open', 'won', 'lost')",
            name="dispute_status",
        ),
        CheckConstraint(
            "status <> 'review'"
            " OR (stripe_paid_cents IS NOT NULL AND stripe_paid_currency IS NOT NULL)",
            name="review_says_what_was_paid",
        ),
        CheckConstraint("joint_donor_id <> donor_id", name="joint_donor_is_another"),
        # The CRM's reads of succeeded gifts at scale (segments, giving figures, dashboard),
        # each answered from the index alone: gifts in a date range (with who, to what and
        # how much), a donor's gifts by date, and who gave to a campaign.
        Index(
            "ix_donations_gifts_by_day",
            "status",
            "received_on",
            "donor_id",
            "campaign_id",
            "organisation_id",
            "amount_cents",
            "refunded_cents",
        ),
        Index(
            "ix_donations_gifts_by_donor",
            "donor_id",
            "status",
            "received_on",
            "amount_cents",
            "refunded_cents",
        ),
        Index("ix_donations_gifts_by_campaign", "campaign_id", "status", "donor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True, default=new_token)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    recurring_gift_id: Mapped[int | None] = mapped_column(
        ForeignKey("recurring_gifts.id"), index=True
    )
    # What the donor paid, the processing fee they chose to add included.
    amount_cents: Mapped[int]
    fee_cents: Mapped[int] = mapped_column(default=0)
    refunded_cents: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    method: Mapped[str] = mapped_column(String(20))
    frequency: Mapped[str] = mapped_column(String(20), default=Frequency.ONE_OFF)
    status: Mapped[str] = mapped_column(String(20), default=Status.PENDING, index=True)
    dispute_status: Mapped[str | None] = mapped_column(String(10))
    # Follows from the method (payments.methods); the CHECK keeps the two together.
    deductible: Mapped[bool] = mapped_column(
        default=lambda context: is_deductible(context.get_current_parameters()["method"])
    )
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(100), index=True)
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    # What Stripe says was paid, in its currency, when it is not what was asked (status review).
    stripe_paid_cents: Mapped[int | None]
    stripe_paid_currency: Mapped[str | None] = mapped_column(String(3))
    # Stripe news about this gift waits for its payment (payments.webhooks): set by the event
    # that parked under the gift's row lock, read back by the success's own UPDATE.
    parked_events: Mapped[bool] = mapped_column(default=False, server_default=false())
    payment_reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    show_name: Mapped[bool] = mapped_column(default=False)
    dedication: Mapped[str] = mapped_column(String(300), default="")
    newsletter_opt_in: Mapped[bool] = mapped_column(default=False)
    # The day the gift was made (money arrived, card charged), in Europe/Rome.
    received_on: Mapped[date | None] = mapped_column(Date)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)
    # The payment's trace as staff read it (payments.trace): a transfer's CRO/TRN or
    # end-to-end id, a cheque's number, a postal receipt's number, a PayPal or Satispay
    # transaction id; and a cheque's bank. Receipts print them (a card gift its charge id).
    trace_reference: Mapped[str] = mapped_column(String(100), default="", server_default="")
    cheque_bank: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # The other holder of a joint account the gift came from: the gift counts half each.
    joint_donor_id: Mapped[int | None] = mapped_column(ForeignKey("donors.id"), index=True)

    campaign: Mapped[Campaign] = relationship()
    organisation: Mapped[Organisation] = relationship()
    donor: Mapped[Donor] = relationship(foreign_keys=[donor_id])
    joint_donor: Mapped[Donor | None] = relationship(foreign_keys=[joint_donor_id])
    recurring_gift: Mapped[RecurringGift | None] = relationship()
    refunds: Mapped[list["Refund"]] = relationship(back_populates="donation", order_by="Refund.id")

    @property
    def net_cents(self) -> int:
        return self.amount_cents - self.refunded_cents


class GiftDetails(db.Model):
    """What the giver typed on the public gift form, kept with the gift (one-off or monthly).

    The form never changes an existing donor: these details reach the donor's record only
    when the gift succeeds (payments.giver_details), once per gift (`applied_at`).
    """

    __tablename__ = "gift_details"
    __table_args__ = (
        CheckConstraint("(donation_id IS NULL) <> (recurring_gift_id IS NULL)", name="one_gift"),
        CheckConstraint("kind IN ('person', 'organisation')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"), unique=True)
    recurring_gift_id: Mapped[int | None] = mapped_column(
        ForeignKey("recurring_gifts.id"), unique=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    organisation_name: Mapped[str] = mapped_column(String(200), default="")
    codice_fiscale: Mapped[str | None] = mapped_column(String(16))
    partita_iva: Mapped[str | None] = mapped_column(String(11))
    street: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    town: Mapped[str] = mapped_column(String(100), default="")
    province: Mapped[str] = mapped_column(String(2), default="")
    language: Mapped[str] = mapped_column(String(5), default="it")
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    donation: Mapped[Donation | None] = relationship()
    recurring_gift: Mapped[RecurringGift | None] = relationship()


class RefundStatus(enum.StrEnum):
    """Stripe's refund states; pending, requires_action and succeeded hold the money back."""

    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


# The refund states in which the money has gone back (or is on its way) to the giver.
REFUND_HOLDING = (RefundStatus.PENDING, RefundStatus.REQUIRES_ACTION, RefundStatus.SUCCEEDED)


class Refund(db.Model):
    """One refund, dated when it was made. A card gift's refund without a Stripe id is money
    Stripe's charge total reported before the refund itself was known (payments.transitions)."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        one_of("status", RefundStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), index=True)
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    status: Mapped[str] = mapped_column(
        String(20), default=RefundStatus.SUCCEEDED, server_default=RefundStatus.SUCCEEDED.value
    )
    # When it failed or was canceled (the provider's time), giving the money back to the gift.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stripe_refund_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    donation: Mapped[Donation] = relationship(back_populates="refunds")


class EventState(enum.StrEnum):
    APPLIED = "applied"
    IGNORED = "ignored"
    # About a gift Legami does not have yet (or not paid yet): applied when it appears.
    PARKED = "parked"


class PaymentEvent(db.Model):
    """A provider event, stored once; its state and outcome say what it did."""

    __tablename__ = "payment_events"
    __table_args__ = (
        UniqueConstraint("provider", "event_id", name="uq_payment_events_event"),
        one_of("state", EventState),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), default="stripe")
    event_id: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(100), index=True)
    payload: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(300), default="")
    state: Mapped[str] = mapped_column(
        String(10), default=EventState.APPLIED, server_default=EventState.APPLIED.value
    )
    # A parked event's payment key (PaymentIntent, charge or invoice id) it waits for.
    awaits: Mapped[str | None] = mapped_column(String(100), index=True)
    # The provider's own time of the event (its `created`), by which news is ordered.
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)
    donation: Mapped[Donation | None] = relationship()


class LineStatus(enum.StrEnum):
    MATCHED = "matched"  # a credit that confirmed its gift
    UNMATCHED = "unmatched"  # for the treasurer to check (the reason says why)
    IGNORED = "ignored"  # settled without a gift (e.g. a credit later reversed)
    REVERSAL = "reversal"  # a debit that took back the credit it `reverses`


class LineDirection(enum.StrEnum):
    CREDIT = "credit"
    DEBIT = "debit"


class BankStatement(db.Model):
    """One imported bank statement file (CSV or CAMT.053)."""

    __tablename__ = "bank_statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(10))
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # What the import left out and why: [{"row": "1-3", "code": "preamble", "detail": ""}]
    # (codes: payments.statements.NOTES).
    notes: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    lines: Mapped[list["StatementLine"]] = relationship(
        back_populates="statement", order_by="StatementLine.id"
    )


class StatementLine(db.Model):
    """A credit on a statement, or a debit that reverses one (payments.statements).

    `line_key` identifies it across imports (payments.bank_lines), so the same line imported
    twice is recognised and never confirms a gift twice. A reversal names the one credit it
    takes back (`reverses_id`, unique: a credit is reversed at most once).
    """

    __tablename__ = "statement_lines"
    __table_args__ = (
        UniqueConstraint("organisation_id", "line_key", name="uq_statement_lines_key"),
        UniqueConstraint("reverses_id", name="uq_statement_lines_reverses"),
        one_of("status", LineStatus),
        one_of("direction", LineDirection),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("reverses_id IS NULL OR direction = 'debit'", name="reversal_is_debit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("bank_statements.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    line_key: Mapped[str] = mapped_column(String(100))
    # Where it was in its file: the CSV line, or the camt entry ("3", "3.2" in a batch).
    position: Mapped[str] = mapped_column(String(20), default="", server_default="")
    direction: Mapped[str] = mapped_column(
        String(6), default=LineDirection.CREDIT, server_default=LineDirection.CREDIT.value
    )
    booked_on: Mapped[date] = mapped_column(Date)
    # The payer's date, when the statement gives one: the gift's date (payments.camt).
    paid_on: Mapped[date | None] = mapped_column(Date)
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    description: Mapped[str] = mapped_column(Text, default="")
    payer: Mapped[str] = mapped_column(String(200), default="")
    bank_reference: Mapped[str] = mapped_column(String(100), default="", server_default="")
    end_to_end_id: Mapped[str] = mapped_column(String(100), default="", server_default="")
    status: Mapped[str] = mapped_column(String(20))
    # A key of payments.statements.REASONS (lines before 0007 hold English text), and what
    # it refers to (a reference, a currency, a gift's status).
    reason: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(String(200), default="", server_default="")
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("statement_lines.id"))
    statement: Mapped[BankStatement] = relationship(back_populates="lines")
    donation: Mapped[Donation | None] = relationship()
    reverses: Mapped["StatementLine | None"] = relationship(remote_side=[id])


class CsvMapping(db.Model):
    """How an organisation's bank writes its CSV statements, saved after the first import."""

    __tablename__ = "csv_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), unique=True)
    date_column: Mapped[str] = mapped_column(String(100))
    # Either one signed amount column, or credits (Avere) and debits (Dare) apart.
    amount_column: Mapped[str] = mapped_column(String(100), default="")
    credit_column: Mapped[str] = mapped_column(String(100), default="", server_default="")
    debit_column: Mapped[str] = mapped_column(String(100), default="", server_default="")
    description_column: Mapped[str] = mapped_column(String(100))
    payer_column: Mapped[str] = mapped_column(String(100), default="")
    # Data valuta: the payer's date (payments.bank_csv).
    value_date_column: Mapped[str] = mapped_column(String(100), default="", server_default="")
    currency_column: Mapped[str] = mapped_column(String(100), default="", server_default="")
    delimiter: Mapped[str] = mapped_column(String(1), default=";")
    date_format: Mapped[str] = mapped_column(String(20), default="%d/%m/%Y")


class BlockedAttempt(db.Model):
    """A donation attempt refused as likely card testing: over a rate limit, or a bot."""

    __tablename__ = "blocked_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    ip: Mapped[str] = mapped_column(String(45))
    email: Mapped[str] = mapped_column(String(254), default="")
    campaign_slug: Mapped[str] = mapped_column(String(120), default="")
    reason: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)
