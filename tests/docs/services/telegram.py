"""``<!-- docs-test: service telegram -->``: a loopback Telegram Bot API (the tests' fake).

It knows one bot and one public channel where that bot is an administrator with the right to
invite users. Sets ``XTRACKER_TELEGRAM_API_URL`` (so the server and the CLI talk to it),
``BOT_TOKEN`` (the bot's token, as @BotFather would give it) and ``TG_CHANNEL`` (the channel's
chat id).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tests.docs.runner import PageContext
from tests.support.fake_telegram import FakeTelegram, threaded

TOKEN = "7012345678:AAHdocsExampleToken_0123456789abcdef"
CHANNEL_ID = -1001987654321


@contextmanager
def service(ctx: PageContext) -> Iterator[dict[str, str]]:
    fake = FakeTelegram()
    fake.add_bot(TOKEN, 7012345678, "promo_funnel_bot")
    fake.add_channel(CHANNEL_ID, "Promo signals", username="promo_signals", members=1200)
    fake.make_admin(CHANNEL_ID, 7012345678)
    with threaded(fake):
        yield {
            "XTRACKER_TELEGRAM_API_URL": fake.url,
            "BOT_TOKEN": TOKEN,
            "TG_CHANNEL": str(CHANNEL_ID),
        }
