"""``webhook``: the documented JSON body (SPEC §5), signed per Standard Webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
from decimal import Decimal
from typing import Any

import orjson

from xtracker.kit.money import format_amount
from xtracker.sender.base import Dispatch, Outcome, SendContext, Target, http_call

CLICK_FIELDS = ("uid", "tg_id", "fbclid", "campaign_id", "campaign_name", "country")


def payload(dispatch: Dispatch) -> dict[str, Any]:
    """The documented body; ``click`` may be partly empty (null), ``data`` only for money."""
    click = dispatch.click
    data: dict[str, Any] = {}
    if dispatch.canonical == "deposit":
        data["value"] = (
            None if dispatch.value_cents is None
            else format_amount(Decimal(dispatch.value_cents) / 100)
        )  # fmt: skip
        data["currency"] = dispatch.currency
    return {
        "event": dispatch.event_name,
        "canonical": dispatch.canonical,
        "event_id": dispatch.event_id,
        "occurred_at_ms": dispatch.occurred_at_ms,
        "click": {
            "uid": dispatch.uid,
            "tg_id": dispatch.tg_id,
            "fbclid": click.get("fbclid"),
            "campaign_id": click.get("campaign_id"),
            "campaign_name": click.get("campaign_name"),
            "country": click.get("country"),
        },
        "data": data,
    }


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` with the ``whsec_`` secret."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


async def send(ctx: SendContext, target: Target, dispatch: Dispatch) -> Outcome:
    if not target.secrets.get("signing_secret"):
        return Outcome("permanent", error="the webhook has no signing secret: rotate it")
    body = orjson.dumps(payload(dispatch))
    timestamp = ctx.now_ms() // 1000
    headers = {
        **target.headers,
        "Content-Type": "application/json",
        "User-Agent": ctx.user_agent,
        "webhook-id": dispatch.event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(target.secrets["signing_secret"], dispatch.event_id,
                                  timestamp, body),
    }  # fmt: skip
    outcome, _text = await http_call(
        ctx, target.config.get("method", "POST"), target.config["url"], headers=headers,
        body=body, proxy=target.proxy_url,
    )  # fmt: skip
    if (
        outcome.kind == "permanent"
        and outcome.status_code is not None
        and 300 <= outcome.status_code < 400
    ):
        return Outcome(
            "permanent",
            outcome.status_code,
            outcome.latency_ms,
            f"HTTP {outcome.status_code}: redirects are not followed",
            outcome.excerpt,
        )
    return outcome
