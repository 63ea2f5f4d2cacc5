"""``fb_capi``: Meta Conversions API, up to 1000 events a request (SPEC §5).

Each event is built exactly as Meta's ``facebook-business`` SDK builds it
(``serverside.Event(...).normalize()``): ``external_id`` is a list, ``currency`` lower case,
``value`` a number. The request is the documented JSON form
``POST {graph}/{version}/{pixel_id}/events?access_token=…`` with ``{"data": [...]}``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from xtracker.kit.hashing import sha256_hex
from xtracker.sender.base import Dispatch, Outcome, SendContext, Target, http_call

MAX_BATCH = 1000
MAX_AGE_MS = 7 * 24 * 3600 * 1000
# Graph error codes that mean "temporary: wait and retry" (API Unknown, Service, Too Many
# Calls, rate limits); anything else in a 4xx is a payload or token problem.
TRANSIENT_CODES = frozenset({1, 2, 4, 17, 341, 613})


def landing_url(dispatch: Dispatch, public_url: str) -> str | None:
    slug = dispatch.click.get("link_slug")
    if not slug:
        return None
    host = dispatch.click.get("host")
    public = urlsplit(public_url)
    if host and host != public.netloc:
        return f"https://{host}/{quote(slug)}"  # a verified custom domain serves /{slug}
    return f"{public_url.rstrip('/')}/l/{quote(slug)}"


def server_event(dispatch: Dispatch, target: Target, public_url: str) -> dict[str, Any]:
    """One event of ``data``, field for field what the SDK's ``Event.normalize()`` gives."""
    click = dispatch.click
    subject = dispatch.uid if dispatch.uid is not None else f"tg:{dispatch.tg_id}"
    user_data: dict[str, Any] = {"external_id": [sha256_hex(subject)]}
    for key, source in (("client_ip_address", "ip"), ("client_user_agent", "user_agent"),
                        ("fbc", "fbc"), ("fbp", "fbp")):  # fmt: skip
        if click.get(source):
            user_data[key] = click[source]
    event: dict[str, Any] = {
        "event_name": dispatch.event_name,
        "event_time": dispatch.occurred_at_ms // 1000,
        "event_id": dispatch.event_id,
        "user_data": user_data,
        "action_source": target.config.get("action_source") or "website",
    }
    url = landing_url(dispatch, public_url)
    if url:
        event["event_source_url"] = url
    if dispatch.canonical == "deposit":
        custom: dict[str, Any] = {"currency": dispatch.currency.lower()}
        if dispatch.value_cents is not None:
            custom["value"] = float(Decimal(dispatch.value_cents) / 100)
        event["custom_data"] = custom
    return event


def request_body(events: list[dict[str, Any]], target: Target) -> dict[str, Any]:
    body: dict[str, Any] = {"data": events}
    if target.config.get("test_event_code"):
        body["test_event_code"] = target.config["test_event_code"]
    return body


def _classify(outcome: Outcome, text: str) -> Outcome:
    if outcome.kind == "delivered" or outcome.status_code is None:
        return outcome
    try:
        error = orjson.loads(text).get("error") or {}
    except (orjson.JSONDecodeError, AttributeError):
        error = {}
    message = error.get("error_user_msg") or error.get("message") or outcome.error
    code = error.get("code")
    reason = f"Meta error {code}: {message}" if code is not None else f"HTTP {outcome.status_code}"
    transient = outcome.kind == "transient" or code in TRANSIENT_CODES or error.get("is_transient")
    return Outcome("transient" if transient else "permanent", outcome.status_code,
                   outcome.latency_ms, reason, outcome.excerpt, outcome.retry_after_s)  # fmt: skip


async def send_batch(ctx: SendContext, target: Target, batch: list[Dispatch]) -> list[Outcome]:
    """Send up to ``MAX_BATCH`` dispatches of one pixel; one outcome per dispatch."""
    now = ctx.now_ms()
    outcomes: list[Outcome | None] = [None] * len(batch)
    fresh: list[int] = []
    for index, dispatch in enumerate(batch):
        if now - dispatch.occurred_at_ms > MAX_AGE_MS:
            outcomes[index] = Outcome(
                "permanent", None, 0,
                "Meta rejects events older than 7 days (event_time is "
                f"{(now - dispatch.occurred_at_ms) // 86_400_000} days ago)",
            )  # fmt: skip
        else:
            fresh.append(index)
    for start in range(0, len(fresh), MAX_BATCH):
        chunk = fresh[start : start + MAX_BATCH]
        events = [server_event(batch[i], target, ctx.public_url) for i in chunk]
        url = (
            f"{ctx.meta_graph_url.rstrip('/')}/{ctx.meta_api_version}/"
            f"{quote(target.config['pixel_id'])}/events"
            f"?access_token={quote(target.secrets['access_token'], safe='')}"
        )
        raw, text = await http_call(
            ctx, "POST", url, headers={"Content-Type": "application/json",
                                       "User-Agent": ctx.user_agent},
            body=orjson.dumps(request_body(events, target)), proxy=target.proxy_url, meta=True,
        )  # fmt: skip
        outcome = _classify(raw, text)
        for i in chunk:
            outcomes[i] = outcome
    return [o for o in outcomes if o is not None]
