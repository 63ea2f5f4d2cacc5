"""The Telegram channel funnel (SPEC §6): the space's bot, channel links with pre-minted
invite links, attributed join requests, the welcome drip and hourly channel stats."""
