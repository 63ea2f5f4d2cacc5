"""A believable traffic model for the demo: who clicks when, from where, and who pays.

Pure functions of a ``random.Random`` so a seed reproduces the same month. Traffic follows a
daily rhythm in the space's timezone (quiet at night, peaks in the evening) and a weekly
one (weekends busier); creatives differ in quality, so the attribution table has winners
and losers; deposits have a long tail of amounts.
"""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass, field
from urllib.parse import urlencode

COUNTRIES: tuple[tuple[str, float], ...] = (
    ("IN", 22),
    ("BR", 12),
    ("ID", 8),
    ("NG", 6),
    ("PK", 5),
    ("MX", 5),
    ("PH", 4),
    ("VN", 4),
    ("EG", 3),
    ("TR", 3),
    ("BD", 3),
    ("US", 3),
    ("DE", 2),
    ("GB", 2),
    ("FR", 2),
    ("IT", 1.5),
    ("ES", 1.5),
    ("PL", 1.2),
    ("UA", 1.2),
    ("KZ", 1),
    ("TH", 1),
    ("MY", 1),
    ("CO", 1),
    ("AR", 1),
    ("PE", 0.8),
    ("ZA", 0.8),
    ("KE", 0.8),
    ("MA", 0.6),
    ("AE", 0.6),
    ("SA", 0.6),
    ("CA", 0.5),
    ("AU", 0.4),
    ("JP", 0.3),
    ("KR", 0.3),
    ("NL", 0.3),
)
USER_AGENTS: tuple[tuple[str, float], ...] = (
    (
        "Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/131.0.0.0 Mobile Safari/537.36",
        45,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        25,
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; Redmi Note 12) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/130.0.0.0 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/480.0.0.0;]",
        18,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/131.0.0.0 Safari/537.36",
        9,
    ),
    ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", 2),
    ("TelegramBot (like TwitterBot)", 1),
)
# Share of a day's clicks in each local hour: low at night, a lunch bump, an evening peak.
HOURLY = tuple(
    0.25 + 0.55 * math.exp(-((h - 13) ** 2) / 8) + 1.0 * math.exp(-((h - 20.5) ** 2) / 6)
    for h in range(24)
)
WEEKDAY = (0.92, 0.9, 0.95, 1.0, 1.08, 1.22, 1.18)  # Monday … Sunday


@dataclass(frozen=True)
class Ad:
    campaign_id: str
    campaign_name: str
    adset_name: str
    ad_id: str
    ad_name: str
    placement: str
    weight: float  # share of the link's traffic
    quality: float  # multiplies every step rate


@dataclass(frozen=True)
class DemoLink:
    slug: str
    name: str
    kind: str  # bot | web
    ads: tuple[Ad, ...]
    # click→contact, contact→subscribed, subscribed→registration, registration→deposit
    rates: tuple[float, float, float, float]
    weight: float


def _ads(prefix: str, campaign: str, names: list[tuple[str, float, float]]) -> tuple[Ad, ...]:
    cid = f"1202{zlib.crc32(campaign.encode()) % 10**11:011d}"
    return tuple(
        Ad(
            cid,
            campaign,
            f"{campaign} · broad",
            f"{prefix}{i:02d}{zlib.crc32(n.encode()) % 10**8:08d}",
            n,
            ("facebook_feed", "instagram_reels", "instagram_stories")[i % 3],
            w,
            q,
        )
        for i, (n, w, q) in enumerate(names)
    )


def demo_links() -> tuple[DemoLink, ...]:
    return (
        DemoLink(
            "signals-bot",
            "Signals bot (Telegram)",
            "bot",
            _ads(
                "6",
                "Signals — IN/BR broad",
                [
                    ("UGC trader video", 0.4, 1.25),
                    ("Chart screenshot", 0.35, 0.95),
                    ("Meme carousel", 0.25, 0.7),
                ],
            ),
            (0.62, 0.55, 0.33, 0.30),
            0.45,
        ),
        DemoLink(
            "vip-bot",
            "VIP channel bot",
            "bot",
            _ads(
                "7",
                "VIP — retargeting",
                [("Testimonial reel", 0.6, 1.15), ("Static offer card", 0.4, 0.85)],
            ),
            (0.70, 0.60, 0.38, 0.36),
            0.2,
        ),
        DemoLink(
            "offer-web",
            "Offer landing (web)",
            "web",
            _ads(
                "8",
                "Offer — LATAM",
                [
                    ("Bonus 100% banner", 0.5, 1.0),
                    ("App walkthrough", 0.3, 1.2),
                    ("Countdown story", 0.2, 0.6),
                ],
            ),
            (0.48, 0.40, 0.30, 0.22),
            0.25,
        ),
        DemoLink(
            "promo-web",
            "Promo page (web)",
            "web",
            _ads("9", "Promo — tier 1", [("Founder interview", 1.0, 0.9)]),
            (0.40, 0.35, 0.25, 0.25),
            0.1,
        ),
    )


@dataclass
class Visitor:
    """One simulated landing visit and what the person does afterwards."""

    link: DemoLink
    ad: Ad
    country: str
    user_agent: str
    query: str
    steps: list[str] = field(default_factory=list)  # events this visitor will fire
    deposits: list[int] = field(default_factory=list)  # cents
    delays_ms: list[int] = field(default_factory=list)  # after the click, per step

    @property
    def is_bot(self) -> bool:
        return not self.user_agent.startswith("Mozilla/5.0 (") or "externalhit" in self.user_agent


def _pick(rnd: random.Random, items: tuple[tuple[str, float], ...]) -> str:
    return rnd.choices([i for i, _ in items], [w for _, w in items])[0]


def deposit_cents(rnd: random.Random) -> int:
    """Mostly $10–$50, some $75–$200, rarely up to $1000; amounts people actually type."""
    roll = rnd.random()
    if roll < 0.7:
        return rnd.choice([1000, 1000, 1500, 2000, 2500, 3000, 5000])
    if roll < 0.97:
        return rnd.choice([7500, 10000, 15000, 20000]) + rnd.choice([0, 0, 0, 99])
    return rnd.randrange(30, 100) * 1000


def visitor(rnd: random.Random, links: tuple[DemoLink, ...]) -> Visitor:
    link = rnd.choices(links, [x.weight for x in links])[0]
    ad = rnd.choices(link.ads, [a.weight for a in link.ads])[0]
    country = _pick(rnd, COUNTRIES)
    ua = _pick(rnd, USER_AGENTS)
    params = {
        "fbclid": "IwAR" + "".join(rnd.choices("abcdefghijkmnpqrstuvwxyz0123456789", k=22)),
        "campaign_id": ad.campaign_id,
        "campaign_name": ad.campaign_name,
        "adset_name": ad.adset_name,
        "ad_id": ad.ad_id,
        "ad_name": ad.ad_name,
        "placement": ad.placement,
        "utm_source": "facebook",
    }
    v = Visitor(link, ad, country, ua, urlencode(params))
    if v.is_bot:
        return v
    tier = 1.25 if country in ("US", "GB", "DE", "AE", "CA", "AU") else 1.0
    delay = 0
    for name, rate in zip(
        ("contact", "subscribed", "registration", "deposit"), link.rates, strict=True
    ):
        if rnd.random() >= min(0.95, rate * ad.quality * (tier if name == "deposit" else 1)):
            break
        delay += int(
            rnd.expovariate(
                1
                / {
                    "contact": 20_000,
                    "subscribed": 90_000,
                    "registration": 1_800_000,
                    "deposit": 5_400_000,
                }[name]
            )
        )
        v.steps.append(name)
        v.delays_ms.append(delay)
        if name == "deposit":
            v.deposits.append(deposit_cents(rnd))
            while rnd.random() < 0.18:  # repeat deposits
                delay += int(rnd.expovariate(1 / 86_400_000))
                v.steps.append("deposit")
                v.delays_ms.append(delay)
                v.deposits.append(deposit_cents(rnd))
    return v


def clicks_in_hour(rnd: random.Random, per_day: float, local_hour: int, weekday: int) -> int:
    expected = per_day * HOURLY[local_hour] / sum(HOURLY) * WEEKDAY[weekday]
    # Poisson by inversion is slow for large means; a rounded normal is close enough here.
    return max(0, round(rnd.gauss(expected, math.sqrt(expected) if expected > 0 else 0)))
