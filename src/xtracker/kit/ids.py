"""Identifiers: time-sortable, unguessable, URL-safe.

A uid is 48 bits of milliseconds followed by 80 random bits, written in Crockford base32
(26 lower-case characters). Sorting uids sorts them by creation time, which keeps B-tree
inserts sequential; 80 random bits make them unguessable.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
# Byte → the character of its low 5 bits: 256 is a multiple of 32, so a random byte gives
# a uniformly random character.
_CHAR_OF_BYTE = bytes.maketrans(
    bytes(range(256)), bytes(ord(_ALPHABET[b & 31]) for b in range(256))
)
UID_LENGTH = 26


class _RandomPool:
    """Random bytes cut from one ``os.urandom`` read per 256 ids.

    ``os.urandom`` lets go of the GIL for its system call, and under load another thread
    (the HTTP server's) takes it: a call per id cost the event loop more than the id
    itself. Same OS generator, same unguessable bytes. A forked child starts empty, so
    server workers never share bytes drawn before the fork.
    """

    def __init__(self, chunk: int) -> None:
        self._chunk = chunk
        self._size = chunk * 256
        self._empty()
        os.register_at_fork(after_in_child=self._empty)

    def _empty(self) -> None:
        self._lock = threading.Lock()
        self._bytes = b""
        self._pos = 0

    def take(self) -> bytes:
        with self._lock:
            start = self._pos
            if start >= len(self._bytes):
                self._bytes = os.urandom(self._size)
                start = 0
            self._pos = start + self._chunk
            return self._bytes[start : start + self._chunk]


_random = _RandomPool(17)  # one byte per random character: 2 + 15×5 + 3 = 80 bits used
_last_prefix = (-1, "")  # (ms >> 3, its 9 characters): shared by the ids of 8 ms


def _time_prefix(high45: int) -> str:
    global _last_prefix
    last = _last_prefix  # one tuple read and one write: safe for threads without a lock
    if last[0] != high45:
        last = _last_prefix = (
            high45,
            "".join([_ALPHABET[(high45 >> shift) & 31] for shift in range(40, -1, -5)]),
        )
    return last[1]


def new_uid(now_ms: int | None = None) -> str:
    """Mint a new click id (also used for every other row id).

    Characters 1–9 are the top 45 bits of the 48-bit millisecond time, the 10th its last
    3 bits and 2 random bits, then 15 random characters and one carrying 3 random bits
    (low bits zero): the base32 of 48 bits of time and 80 random bits, most significant
    first, so string order is time order. Built from per-byte character look-ups (1.5 µs)
    instead of shifting a 130-bit integer 13 times (3.5 µs): one per event on the hot path.
    """
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    ms &= 0xFFFF_FFFF_FFFF
    rand = _random.take()
    chars = rand.translate(_CHAR_OF_BYTE).decode("ascii")
    return (
        _time_prefix(ms >> 3)
        + _ALPHABET[(ms & 7) << 2 | rand[0] & 3]
        + chars[1:16]
        + _ALPHABET[rand[16] & 28]
    )


def uid_time_ms(uid: str) -> int:
    """The millisecond timestamp a uid was minted at."""
    value = 0
    for ch in uid[:10]:  # 10 characters = 50 bits ⊇ the 48-bit timestamp
        value = value << 5 | _ALPHABET.index(ch)
    return value >> 2


# \w is what str.isalnum() accepts, plus "_" (the unit test checks every code point); one
# regex match costs a quarter of a Python loop over the characters (1 µs vs 4 µs a uid).
_UID_TEXT = re.compile(r"[\w.~-]{1,64}")


def is_valid_uid_text(text: str) -> bool:
    """A uid received from outside: 1–64 letters, digits and ``-_.~`` (its sender's own ids)."""
    return _UID_TEXT.fullmatch(text) is not None


def new_secret(prefix: str, nbytes: int = 24) -> str:
    """A random secret with a readable prefix, e.g. ``xtb_…`` for Bearer secrets."""
    return prefix + secrets.token_urlsafe(nbytes)
