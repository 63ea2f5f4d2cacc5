"""Money is a Decimal, never a float; rendered with two decimals."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

_CENT = Decimal("0.01")
MAX_VALUE = Decimal("1000000000000")


class InvalidMoney(ValueError):
    """The value is not a finite, non-negative decimal amount."""


def parse_amount(raw: object) -> Decimal:
    """Parse a value sent as a string or a number into a Decimal with two places."""
    if isinstance(raw, bool):
        raise InvalidMoney("value must be a number or a numeric string")
    if isinstance(raw, float):
        raw = repr(raw)  # shortest repr keeps 25.1 as "25.1", not 25.100000000000001
    if isinstance(raw, int):
        raw = str(raw)
    if not isinstance(raw, str):
        raise InvalidMoney("value must be a number or a numeric string")
    text = raw.strip().replace(",", ".") if raw.count(",") == 1 and "." not in raw else raw.strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidMoney(f"value {raw!r} is not a number") from None
    if not amount.is_finite():
        raise InvalidMoney(f"value {raw!r} is not a finite number")
    if amount < 0:
        raise InvalidMoney("value must not be negative")
    if amount > MAX_VALUE:
        raise InvalidMoney("value is too large")
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP)


def format_amount(amount: Decimal | None) -> str:
    """``Decimal('25')`` → ``'25.00'``; None → ``''``."""
    if amount is None:
        return ""
    return str(amount.quantize(_CENT, rounding=ROUND_HALF_UP))


def normalize_currency(raw: object, default: str = "USD") -> str:
    """Three-letter ISO 4217 code in upper case."""
    if raw is None or raw == "":
        return default
    if not isinstance(raw, str):
        raise ValueError("currency must be a three-letter code")
    code = raw.strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ValueError(f"currency {raw!r} is not a three-letter code")
    return code
