"""Copy-ready code for the API-keys screen, with the real values filled in.

Secrets exist in clear text only at the moment they are created or rotated; otherwise the
snippets read them from ``$XT_BEARER`` / ``$XT_INGEST`` so they still paste and run.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class Snippet:
    id: str
    title: str
    language: str
    code: str
    note: str = ""


def build_snippets(
    public_url: str, space_slug: str, bearer: str | None, ingest: str | None
) -> list[Snippet]:
    base = public_url.rstrip("/")
    bearer_value = bearer or "$XT_BEARER"
    auth = f"Authorization: Bearer {bearer_value}"
    auth_arg = shlex.quote(auth) if bearer else f'"{auth}"'
    token = ingest or "<INGEST_TOKEN>"
    py_bearer = f'"{bearer}"' if bearer else 'os.environ["XT_BEARER"]'
    return [
        Snippet(
            "curl-event",
            "Send an event (curl)",
            "bash",
            f"curl -sS {base}/events \\\n  -H {auth_arg} \\\n"
            "  -H 'Content-Type: application/json' \\\n"
            '  -d \'{"event": "deposit", "uid": "<UID>", "value": "25.00", '
            '"currency": "USD", "eid": "<ORDER_ID>"}\'',
        ),
        Snippet(
            "curl-bind",
            "Bind a uid to a Telegram user (curl)",
            "bash",
            f"curl -sS {base}/bind \\\n  -H {auth_arg} \\\n"
            "  -H 'Content-Type: application/json' \\\n"
            '  -d \'{"uid": "<UID>", "tg_id": 555123}\'',
        ),
        Snippet(
            "python",
            "Python (the xtracker client)",
            "python",
            (
                "import asyncio\n" + ("" if bearer else "import os\n") + "\n"
                "from xtracker.client import AsyncClient\n\n\n"
                "async def main() -> None:\n"
                f'    async with AsyncClient("{base}", {py_bearer}) as xt:\n'
                '        await xt.bind("<UID>", tg_id=555123)\n'
                '        await xt.send_event("deposit", uid="<UID>", value="25.00", eid="<ORDER_ID>")\n'
                "\n\nasyncio.run(main())"
            ),
        ),
        Snippet(
            "postback-deposit",
            "Postback URL: deposit (paste into the affiliate network)",
            "text",
            f"{base}/e?token={token}&event=deposit&uid={{click_id}}&value={{amount}}"
            "&currency=USD&eid={trade_id}",
            "Replace {click_id}, {amount} and {trade_id} with your network's macros.",
        ),
        Snippet(
            "postback-registration",
            "Postback URL: registration",
            "text",
            f"{base}/e?token={token}&event=registration&uid={{click_id}}&eid={{user_id}}",
        ),
        Snippet(
            "bind-url",
            "Bind by URL (for bots that can only call a link)",
            "text",
            f"{base}/bind?token={token}&uid={{uid}}&tg_id={{tg_id}}",
        ),
    ]
