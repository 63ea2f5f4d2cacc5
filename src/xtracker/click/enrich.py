"""Device, browser and OS from the user agent; bot and preview-fetcher detection; country.

Both look-ups are cached: ad traffic repeats a few hundred user agents and IPs over and over.
Country comes from an IP database shipped inside a dependency (geoip2fast) or a MaxMind
``.mmdb`` file the operator points ``XTRACKER_GEOIP_MMDB`` at; never a network look-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import ua_parser

# Link-preview fetchers, crawlers and HTTP libraries: they get the page, but are flagged
# and left out of every count. In-app browsers (Telegram, Facebook, Twitter for iPhone) name
# their app in the UA, so only the fetchers' own tokens are matched.
_BOT_UA = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|facebookexternalhit|facebookcatalog|meta-external"
    r"|telegrambot|slackbot|slack-imgproxy|whatsapp/|twitterbot|discordbot|linkedinbot"
    r"|skypeuripreview|vkshare|pinterestbot"
    r"|embedly|quora link preview|redditbot|applebot|googlebot|bingbot|yandex|baidu|duckduck"
    r"|curl|wget|python-requests|python-urllib|httpx|aiohttp|go-http-client|okhttp|java/"
    r"|libwww|httpie|headlesschrome|phantomjs|node-fetch|axios|scrapy|ahrefs|semrush|mj12"
    r"|petalbot|bytespider|gptbot|claudebot|ccbot|preview|monitor|uptime|wrk/|lighthouse",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class UserAgentInfo:
    device: str | None
    os: str | None
    browser: str | None
    is_bot: bool


def _family(part: Any, with_major: bool = False) -> str | None:
    if part is None or part.family in (None, "Other"):
        return None
    family: str = part.family
    if with_major and getattr(part, "major", None):
        return f"{family} {part.major}"
    return family


@lru_cache(maxsize=4096)
def parse_user_agent(user_agent: str) -> UserAgentInfo:
    if not user_agent.strip():
        return UserAgentInfo(None, None, None, True)
    result = ua_parser.parse(user_agent)
    device = _family(result.device)
    is_bot = device == "Spider" or _BOT_UA.search(user_agent) is not None
    return UserAgentInfo(device, _family(result.os, True), _family(result.user_agent, True), is_bot)


class GeoLocator:
    """IP → ISO 3166-1 alpha-2 country code, or None."""

    def __init__(self, mmdb_path: Path | None = None) -> None:
        self._mmdb: Any = None
        self._fast: Any = None
        if mmdb_path is not None:
            import maxminddb

            self._mmdb = maxminddb.open_database(str(mmdb_path))
        else:
            from geoip2fast import GeoIP2Fast

            self._fast = GeoIP2Fast(geoip2fast_data_file="geoip2fast-ipv6.dat.gz")
        self.country = lru_cache(maxsize=65536)(self._country)

    def _country(self, ip: str) -> str | None:
        if not ip:
            return None
        if self._mmdb is not None:
            try:
                record = self._mmdb.get(ip)
            except ValueError:
                return None
            country = (record or {}).get("country") or (record or {}).get("registered_country")
            code = (country or {}).get("iso_code")
            return str(code) if code else None
        code = self._fast.lookup(ip).country_code
        return code if code and len(code) == 2 and code != "--" else None
