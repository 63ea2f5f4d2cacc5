"""Build a click row from what a visit carries, and the SQL that stores it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any
from urllib.parse import unquote_plus

from xtracker.click.enrich import GeoLocator, parse_user_agent
from xtracker.db.models.click import CAMPAIGN_FIELDS
from xtracker.db.writer import RowJob
from xtracker.report.rollup import click_counter

CLICK_COLUMNS: tuple[str, ...] = (
    "uid", "space_id", "link_id", "ts_ms", "source", "is_bot", "ip", "user_agent", "device",
    "os", "browser", "country", "referrer", "host", "raw_query", "fbclid", "fbc", "fbp",
    *CAMPAIGN_FIELDS,
)  # fmt: skip
MAX_FIELD = 255


@lru_cache(maxsize=256)
def insert_click_sql(columns: tuple[str, ...]) -> str:
    return f"INSERT INTO click ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


@dataclass(slots=True)
class Visit:
    """What the HTTP layer knows about one visit, already decoded."""

    peer_ip: str
    user_agent: str
    referrer: str | None
    host: str | None
    raw_query: str
    cookies: dict[str, str]
    proxy_ip: str | None = None  # client IP claimed by a proxy header
    proxy_country: str | None = None  # country claimed by a proxy header (CF-IPCountry)


def parse_query(raw_query: str) -> dict[str, str]:
    """First value of each parameter (ad platforms never repeat campaign fields).

    Same result as ``parse_qsl(keep_blank_values=True)``; the common case (nothing
    escaped) skips unquoting, which is most of its cost on the landing path.
    """
    params: dict[str, str] = {}
    for pair in raw_query.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        if "%" in pair or "+" in pair:
            key = unquote_plus(key)
            value = unquote_plus(value)
        if key not in params:
            params[key] = value
    return params


def parse_cookies(header: str) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            cookies.setdefault(name, value)
    return cookies


def is_trusted(ip: str, networks: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    if not networks or not ip:
        return False
    try:
        address = ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in networks)


def fbc_from_fbclid(fbclid: str, ts_ms: int) -> str:
    """Meta's click-id cookie format: ``fb.1.<ms>.<fbclid>``."""
    return f"fb.1.{ts_ms}.{fbclid}"


def build_click(
    *,
    uid: str,
    space_id: str,
    link_id: str | None,
    ts_ms: int,
    visit: Visit,
    geo: GeoLocator | None,
    source: str = "landing",
    params: dict[str, str] | None = None,
) -> dict[str, Any]:
    query = parse_query(visit.raw_query) if params is None else params
    ip = visit.proxy_ip or visit.peer_ip
    ua = parse_user_agent(visit.user_agent[:1024])
    country = visit.proxy_country
    if country is not None:
        country = country.upper() if len(country) == 2 and country.isalpha() else None
        if country in ("XX", "T1"):  # Cloudflare: unknown / Tor
            country = None
    if country is None and geo is not None:
        country = geo.country(ip)
    fbclid = query.get("fbclid") or None
    fbc = visit.cookies.get("_fbc") or (fbc_from_fbclid(fbclid, ts_ms) if fbclid else None)
    row: dict[str, Any] = {
        "uid": uid,
        "space_id": space_id,
        "link_id": link_id,
        "ts_ms": ts_ms,
        "source": source,
        "is_bot": ua.is_bot,
        "ip": ip or None,
        "user_agent": visit.user_agent[:1024] or None,
        "device": ua.device,
        "os": ua.os,
        "browser": ua.browser,
        "country": country,
        "referrer": (visit.referrer or None) and visit.referrer[:2048],
        "host": visit.host,
        "raw_query": visit.raw_query[:8192] or None,
        "fbclid": fbclid,
        "fbc": fbc,
        "fbp": visit.cookies.get("_fbp") or None,
    }
    for name in CAMPAIGN_FIELDS:
        value = query.get(name)
        row[name] = value[:MAX_FIELD] if value else None
    return row


def click_insert_job(row: dict[str, Any]) -> RowJob:
    """A ``GroupCommitter`` job storing the click; its result is the uid.

    Only the columns with a value are named (the others are NULL either way): sqlite3
    looks for an adapter before binding a None, ~0.4 µs each, and a landing visit leaves
    about half of the 35 columns empty (measured: 16 → 10 µs per inserted click).
    """
    columns = tuple([name for name in CLICK_COLUMNS if row[name] is not None])
    return RowJob(
        insert_click_sql(columns),
        tuple([row[name] for name in columns]),
        result=row["uid"],
        then=click_counter(row),  # report rollups, in the same transaction
    )
