"""Tables of the second factor: TOTP secrets, recovery codes, remembered devices and the
half-open logins waiting for their code. Secret tokens are stored as their sha256 only;
recovery codes as argon2 hashes (like passwords)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.accounts.models import IssuedToken
from app.db import UTCDateTime, created_field, when_field

__all__ = ["LoginChallenge", "RecoveryCode", "TrustedDevice", "UserTotp"]


class UserTotp(SQLModel, table=True):
    """A user's TOTP secret (RFC 6238, 30 s, 6 digits). Unconfirmed until a first code."""

    __tablename__ = "user_totp"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    secret: str = Field(max_length=64)  # base32
    created_at: datetime = created_field()
    confirmed_at: datetime | None = when_field()
    last_step: int = 0  # the time step of the last accepted code (no replay)


class RecoveryCode(SQLModel, table=True):
    __tablename__ = "recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    code_hash: str
    created_at: datetime = created_field()
    used_at: datetime | None = when_field()


class TrustedDevice(IssuedToken, table=True):
    """A browser where the second factor is not asked again until `expires_at`."""

    __tablename__ = "trusted_device"

    user_agent: str | None = None


class LoginChallenge(SQLModel, table=True):
    """A password checked, the second factor not yet: grants nothing but the code page.
    `id` is the sha256 hex of the cookie's random token."""

    __tablename__ = "login_challenge"

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    created_at: datetime = created_field()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    next_path: str | None = None
    used_at: datetime | None = when_field()
