"""``s2s_postback``: render the URL template's macros (SPEC §4) and judge the answer by
``expected_status`` (exactly) and the optional ``expected_body`` substring."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from xtracker.db.models.click import CAMPAIGN_FIELDS
from xtracker.kit.money import format_amount
from xtracker.macro import validate_template
from xtracker.macro.template import PARAM_PREFIX
from xtracker.sender.base import Dispatch, Outcome, SendContext, Target, http_call


def macro_values(dispatch: Dispatch) -> dict[str, Any]:
    click = dispatch.click
    money = dispatch.canonical == "deposit"
    values: dict[str, Any] = {name: click.get(name) for name in CAMPAIGN_FIELDS}
    values.update(
        uid=dispatch.uid, event=dispatch.event_name, canonical=dispatch.canonical,
        value=(format_amount(Decimal(dispatch.value_cents) / 100)
               if money and dispatch.value_cents is not None else None),
        currency=dispatch.currency if money else None,
        occurred_at_ms=dispatch.occurred_at_ms, tg_id=dispatch.tg_id,
        fbclid=click.get("fbclid"), eid=dispatch.eid, event_id=dispatch.event_id,
        country=click.get("country"), link=click.get("link_slug"),
    )  # fmt: skip
    for key, value in parse_qsl(click.get("raw_query") or "", keep_blank_values=True):
        values.setdefault(PARAM_PREFIX + key, value)
    return values


def render_url(template: str, dispatch: Dispatch) -> str:
    return validate_template(template).render(macro_values(dispatch))


async def send(ctx: SendContext, target: Target, dispatch: Dispatch) -> Outcome:
    url = render_url(target.config["url_template"], dispatch)
    headers = {**target.headers, "User-Agent": ctx.user_agent}
    outcome, text = await http_call(
        ctx, target.config.get("method", "GET"), url, headers=headers, proxy=target.proxy_url
    )
    expected_status = int(target.config.get("expected_status") or 200)
    expected_body = target.config.get("expected_body")
    if outcome.status_code is None:
        return outcome  # timeout, connection error, refused target
    if outcome.status_code == expected_status:
        if expected_body and expected_body not in text:
            return Outcome("permanent", outcome.status_code, outcome.latency_ms,
                           f"answer does not contain {expected_body!r}", outcome.excerpt)  # fmt: skip
        return Outcome("delivered", outcome.status_code, outcome.latency_ms, None, outcome.excerpt)
    if outcome.kind == "transient":
        return outcome
    return Outcome("permanent", outcome.status_code, outcome.latency_ms,
                   f"HTTP {outcome.status_code}, expected {expected_status}", outcome.excerpt)  # fmt: skip
