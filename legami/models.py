"""The shell's models: the organisations of the network, staff users and API tokens."""

import enum
import hashlib
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint, false, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from legami.extensions import db
from legami.timeutil import UTCDateTime, now_utc


class EntityType(enum.StrEnum):
    ODV = "odv"
    APS = "aps"
    OTHER_ETS = "other_ets"
    ONLUS = "onlus"
    SOCIAL_COOPERATIVE = "social_cooperative"
    MUNICIPALITY = "municipality"
    OTHER = "other"


class Role(enum.StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    TREASURER = "treasurer"


def one_of(column: str, enum_cls) -> CheckConstraint:
    """A CHECK that `column` holds one of the enum's values, named after the column."""
    values = ", ".join(f"'{member.value}'" for member in enum_cls)
    return CheckConstraint(f"{column} IN ({values})", name=column)


class Organisation(db.Model):
    """An organisation of the network that runs campaigns and issues its own receipts."""

    __tablename__ = "organisations"
    __table_args__ = (one_of("entity_type", EntityType),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    codice_fiscale: Mapped[str] = mapped_column(String(16), unique=True)
    partita_iva: Mapped[str | None] = mapped_column(String(11))
    runts_number: Mapped[str | None] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(30))
    art83_eligible: Mapped[bool] = mapped_column(default=False)
    street: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(5))
    town: Mapped[str] = mapped_column(String(100))
    province: Mapped[str] = mapped_column(String(2))
    legal_representative: Mapped[str] = mapped_column(String(200))
    iban: Mapped[str | None] = mapped_column(String(34))
    email: Mapped[str] = mapped_column(String(254))
    logo: Mapped[str | None] = mapped_column(String(100))
    # The largest single online gift accepted (card testing and typos: 50,000 EUR by default).
    max_gift_cents: Mapped[int] = mapped_column(default=5_000_000, server_default="5000000")
    # Whether campaign donors without newsletter consent may get report-back mails (with an
    # opt-out in each): the Garante allows reporting results; the organisation decides.
    report_back_enabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    @property
    def address(self) -> str:
        return f"{self.street}, {self.postal_code} {self.town} ({self.province})"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str] = mapped_column(String(5), default="it")
    # Part of the login session's user id: bumping it ends every session of the user
    # (logout, password change, deactivation), so a copied cookie stops working.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    roles: Mapped[list["UserRole"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", back_populates="user"
    )

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def end_sessions(self) -> None:
        self.session_version = (self.session_version or 0) + 1

    @property
    def role_names(self) -> set[str]:
        return {r.role for r in self.roles}

    def has_any_role(self, *roles: str) -> bool:
        return bool(self.role_names & set(roles))

    def set_roles(self, roles) -> None:
        wanted = {Role(r).value for r in roles}
        self.roles = [r for r in self.roles if r.role in wanted]
        self.roles += [UserRole(role=r) for r in sorted(wanted - self.role_names)]

    def set_password(self, password: str) -> None:
        """Set the password and end the user's other sessions."""
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)


class UserRole(db.Model):
    __tablename__ = "user_roles"
    __table_args__ = (
        UniqueConstraint("user_id", "role", name="uq_user_roles_user_role"),
        one_of("role", Role),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    user: Mapped[User] = relationship(back_populates="roles")


class ApiToken(db.Model):
    """A staff bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(default=False)
    user: Mapped[User] = relationship(lazy="joined")

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str = "") -> tuple["ApiToken", str]:
        token = "lgm_" + secrets.token_urlsafe(32)
        row = cls(user=user, name=name, token_hash=cls.hash(token))
        db.session.add(row)
        return row, token

    @classmethod
    def find_active(cls, token: str) -> "ApiToken | None":
        row = db.session.scalar(select(cls).where(cls.token_hash == cls.hash(token)))
        if row is None or row.revoked or not row.user.is_active:
            return None
        return row


class AuditEntry(db.Model):
    """Who did what to money or personal data: confirmations, refunds, voids, exports."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    target: Mapped[str] = mapped_column(String(100), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)
    user: Mapped[User | None] = relationship()
