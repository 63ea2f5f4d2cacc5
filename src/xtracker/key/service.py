"""Minting and rotating a space's secrets (stored only as hashes, shown once)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xtracker.db.models import ApiKey
from xtracker.errors import ValidationFailed
from xtracker.key.auth import BEARER, INGEST
from xtracker.kit.hashing import secret_hash
from xtracker.kit.ids import new_secret, new_uid

PREFIX = {BEARER: "xtb_", INGEST: "xti_"}


def _hint(secret: str) -> str:
    return f"{secret[:4]}…{secret[-4:]}"


class KeyService:
    async def mint(self, session: AsyncSession, space_id: str, kind: str, now_ms: int) -> str:
        secret = new_secret(PREFIX[kind])
        session.add(
            ApiKey(
                id=new_uid(now_ms), space_id=space_id, kind=kind, secret_hash=secret_hash(secret),
                hint=_hint(secret), created_at_ms=now_ms, expires_at_ms=None,
            )
        )  # fmt: skip
        return secret

    async def rotate(
        self, session: AsyncSession, space_id: str, kind: str, now_ms: int, grace_ms: int
    ) -> tuple[str, int]:
        """A new secret; the current one keeps working until ``now + grace``."""
        if kind not in PREFIX:
            raise ValidationFailed("kind must be bearer or ingest", field="kind")
        expires = now_ms + grace_ms
        await session.execute(
            update(ApiKey)
            .where(ApiKey.space_id == space_id, ApiKey.kind == kind, ApiKey.expires_at_ms.is_(None))
            .values(expires_at_ms=expires)
        )
        return await self.mint(session, space_id, kind, now_ms), expires

    async def list(self, session: AsyncSession, space_id: str) -> list[ApiKey]:
        result = await session.scalars(
            select(ApiKey).where(ApiKey.space_id == space_id).order_by(ApiKey.created_at_ms)
        )
        return list(result)


key_service = KeyService()
