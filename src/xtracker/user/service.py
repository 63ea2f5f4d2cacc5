"""Users (argon2 password hashes), memberships (owner | viewer) and web sessions.

A session cookie holds a random token; the database keeps only its SHA-256, so a copy of the
database cannot sign anyone in. The CSRF token of a session is an HMAC of the session token
under the server's secret key: nothing more to store, and it dies with the session.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from xtracker.db.models import Membership, Space, User, WebSession
from xtracker.errors import NotFound, ValidationFailed
from xtracker.kit.hashing import secret_hash
from xtracker.kit.ids import new_uid
from xtracker.user.errors import EmailTaken, InvalidLogin, LastOwner, WeakPassword

OWNER = "owner"
VIEWER = "viewer"
ROLES = (OWNER, VIEWER)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so both answers take the same time.
    Made on first use: hashing costs ~0.3 s, which every CLI start paid at import."""
    return _hasher.hash("not-a-real-password")


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL.match(email) or len(email) > 254:
        raise ValidationFailed("email must look like name@example.com", field="email")
    return email


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationFailed("role must be owner or viewer", field="role")
    return role


def csrf_for(secret_key: str, session_token: str) -> str:
    return hmac.new(
        secret_key.encode(), b"csrf|" + session_token.encode(), hashlib.sha256
    ).hexdigest()


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected, given or "")


class UserService:
    async def create(self, session: AsyncSession, email: str, password: str, now_ms: int) -> User:
        email = normalize_email(email)
        if len(password) < MIN_PASSWORD:
            raise WeakPassword(field="password")
        if await self.find_by_email(session, email) is not None:
            raise EmailTaken(f"a user with email {email!r} exists", field="email")
        password_hash = await asyncio.to_thread(_hasher.hash, password)
        user = User(id=new_uid(now_ms), email=email, password_hash=password_hash,
                    created_at_ms=now_ms)  # fmt: skip
        session.add(user)
        await session.flush()
        return user

    async def set_password(self, session: AsyncSession, user: User, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise WeakPassword(field="password")
        user.password_hash = await asyncio.to_thread(_hasher.hash, password)
        await session.flush()

    async def find_by_email(self, session: AsyncSession, email: str) -> User | None:
        query = select(User).where(User.email == email.strip().lower())
        return (await session.scalars(query)).first()

    async def get_by_email(self, session: AsyncSession, email: str) -> User:
        user = await self.find_by_email(session, email)
        if user is None:
            raise NotFound(f"no user {email.strip().lower()!r}")
        return user

    async def authenticate(self, session: AsyncSession, email: str, password: str) -> User:
        user = await self.find_by_email(session, email)
        stored = user.password_hash if user is not None else _dummy_hash()
        try:
            await asyncio.to_thread(_hasher.verify, stored, password)
        except (VerificationError, InvalidHashError):
            raise InvalidLogin() from None
        if user is None:
            raise InvalidLogin()
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = await asyncio.to_thread(_hasher.hash, password)
        return user

    async def list_all(self, session: AsyncSession) -> list[User]:
        return list(await session.scalars(select(User).order_by(User.created_at_ms)))

    # memberships -------------------------------------------------------------------------

    async def grant(
        self, session: AsyncSession, user: User, space: Space, role: str, now_ms: int
    ) -> Membership:
        """Make ``user`` an owner or viewer of ``space`` (changing the role if a member)."""
        check_role(role)
        query = select(Membership).where(
            Membership.space_id == space.id, Membership.user_id == user.id
        )
        membership = (await session.scalars(query)).first()
        if membership is None:
            membership = Membership(id=new_uid(now_ms), space_id=space.id, user_id=user.id,
                                    role=role, created_at_ms=now_ms)  # fmt: skip
            session.add(membership)
        else:
            membership.role = role
        await session.flush()
        return membership

    async def revoke(self, session: AsyncSession, user: User, space: Space) -> bool:
        result = await session.execute(
            delete(Membership).where(Membership.space_id == space.id, Membership.user_id == user.id)
        )
        return bool(getattr(result, "rowcount", 0))

    async def _owners(self, session: AsyncSession, space_id: str) -> int:
        query = select(Membership.user_id).where(
            Membership.space_id == space_id, Membership.role == OWNER
        )
        return len(list(await session.scalars(query)))

    async def set_member(
        self, session: AsyncSession, space: Space, email: str, role: str, now_ms: int
    ) -> Membership:
        """Give the user with ``email`` a role in ``space``; never leaves it without an owner."""
        check_role(role)
        user = await self.get_by_email(session, email)
        current = await self.role_in(session, user.id, space.id)
        if current == OWNER and role != OWNER and await self._owners(session, space.id) <= 1:
            raise LastOwner(field="role")
        return await self.grant(session, user, space, role, now_ms)

    async def remove_member(self, session: AsyncSession, space: Space, email: str) -> None:
        user = await self.get_by_email(session, email)
        current = await self.role_in(session, user.id, space.id)
        if current is None:
            raise NotFound(f"{user.email} is not a member of this space")
        if current == OWNER and await self._owners(session, space.id) <= 1:
            raise LastOwner()
        await self.revoke(session, user, space)

    async def role_in(self, session: AsyncSession, user_id: str, space_id: str) -> str | None:
        query = select(Membership.role).where(
            Membership.space_id == space_id, Membership.user_id == user_id
        )
        return (await session.scalars(query)).first()

    async def spaces_of(self, session: AsyncSession, user_id: str) -> list[tuple[Space, str]]:
        query = (
            select(Space, Membership.role)
            .join(Membership, Membership.space_id == Space.id)
            .where(Membership.user_id == user_id)
            .order_by(Space.created_at_ms)
        )
        return [(space, role) for space, role in (await session.execute(query)).all()]

    async def members_of(self, session: AsyncSession, space_id: str) -> list[tuple[User, str, int]]:
        """(user, role, member since) of a space, oldest member first."""
        query = (
            select(User, Membership.role, Membership.created_at_ms)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.space_id == space_id)
            .order_by(Membership.created_at_ms, User.email)
        )
        return [(u, role, since) for u, role, since in (await session.execute(query)).all()]


class SessionService:
    async def start(self, session: AsyncSession, user: User, now_ms: int, ttl_ms: int) -> str:
        """A new browser session; returns the cookie value (never stored)."""
        token = secrets.token_urlsafe(32)
        session.add(WebSession(id=new_uid(now_ms), token_hash=secret_hash(token), user_id=user.id,
                               created_at_ms=now_ms, expires_at_ms=now_ms + ttl_ms))  # fmt: skip
        await session.execute(
            delete(WebSession).where(
                WebSession.user_id == user.id, WebSession.expires_at_ms < now_ms
            )
        )
        await session.flush()
        return token

    async def resolve(self, session: AsyncSession, token: str, now_ms: int) -> User | None:
        query = (
            select(User)
            .join(WebSession, WebSession.user_id == User.id)
            .where(WebSession.token_hash == secret_hash(token), WebSession.expires_at_ms > now_ms)
        )
        return (await session.scalars(query)).first()

    async def end(self, session: AsyncSession, token: str) -> None:
        await session.execute(delete(WebSession).where(WebSession.token_hash == secret_hash(token)))

    async def end_all(self, session: AsyncSession, user: User) -> None:
        await session.execute(delete(WebSession).where(WebSession.user_id == user.id))


user_service = UserService()
session_service = SessionService()
