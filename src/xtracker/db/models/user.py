from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xtracker.db.models.base import Base


class User(Base):
    """A person who signs in to the dashboard; the password is kept as an argon2 hash."""

    __tablename__ = "user"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at_ms: Mapped[int] = mapped_column(BigInteger)


class Membership(Base):
    """A user's role in one space: ``owner`` (everything) or ``viewer`` (read-only)."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("space_id", "user_id"), Index(None, "user_id"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("space.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    created_at_ms: Mapped[int] = mapped_column(BigInteger)


class WebSession(Base):
    """A signed-in browser. Only the SHA-256 of the cookie value is stored."""

    __tablename__ = "web_session"
    __table_args__ = (Index(None, "user_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    expires_at_ms: Mapped[int] = mapped_column(BigInteger)


class LoginFailure(Base):
    """A wrong password, kept for the sign-in throttle's window.

    In the database rather than in memory, so every server process counts the same
    failures (``serve --workers N`` would otherwise allow N times the guesses). Only a
    SHA-256 of what is counted (an email, a client address) is stored: people type
    passwords into the email field too.
    """

    __tablename__ = "login_failure"
    __table_args__ = (Index(None, "key_hash", "at_ms"), Index(None, "at_ms"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    at_ms: Mapped[int] = mapped_column(BigInteger)
