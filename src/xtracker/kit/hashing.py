"""Hashes with a fixed meaning: secrets at rest, dedup keys, dispatch ids."""

from __future__ import annotations

import hashlib


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def secret_hash(secret: str) -> str:
    """API secrets are random and long, so a plain SHA-256 is the right at-rest form."""
    return sha256_hex(secret)


def dedup_key(space_id: str, subject: str, canonical: str, discriminator: str) -> str:
    """The documented key: sha256(space_id | uid | canonical | discriminator).

    ``subject`` is the uid, or ``tg:<tg_id>`` for an event that came with only a tg_id.
    """
    return sha256_hex(f"{space_id}|{subject}|{canonical}|{discriminator}")


def dispatch_event_id(inbox_id: str, destination_id: str) -> str:
    """Stable id of one event → destination dispatch; the same on every retry and replay."""
    return sha256_hex(f"{inbox_id}|{destination_id}")[:32]
