"""What the Telegram capability refuses, in the one error shape."""

from __future__ import annotations

from xtracker.errors import NotFound, Unavailable, ValidationFailed


class InvalidBotToken(ValidationFailed):
    """Telegram does not accept this bot token (getMe failed): copy it again from @BotFather."""

    code = "invalid_bot_token"


class BotNotConnected(NotFound):
    """This space has no Telegram bot: run `xtracker telegram connect` first."""

    code = "bot_not_connected"


class BotNotAdmin(ValidationFailed):
    """The space's bot must be an administrator of the channel with the right to invite users."""

    code = "bot_not_admin"


class ChannelNotFound(ValidationFailed):
    """Telegram does not know that channel, or the bot is not a member of it."""

    code = "channel_not_found"


class TelegramUnavailable(Unavailable):
    """Telegram could not be reached; try again in a minute."""

    code = "telegram_unreachable"
