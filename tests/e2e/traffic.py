"""Real traffic for the browser tests: links made through the API, landing visits from many
countries (through a trusted proxy's headers), and funnel events sent by HTTP."""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

UID_IN_TARGET = re.compile(r"click_id=([A-Za-z0-9_-]+)")
COUNTRIES = ["US", "IN", "BR", "DE", "ID", "NG", "MX", "PH", "TR", "GB", "FR", "ES", "VN", "EG"]
ADS = [("120001", "UGC video — testimonial"), ("120002", "Static — bonus 100%"),
       ("120003", "Carousel — app screens")]  # fmt: skip


@dataclass
class Traffic:
    uids: dict[str, list[str]] = field(default_factory=dict)  # link slug → uids


def make_link(http: httpx.Client, space: str, slug: str, name: str) -> None:
    answer = http.post(f"/api/spaces/{space}/links", json={
        "slug": slug, "name": name, "kind": "web",
        "target_url": "https://offer.example/?click_id={uid}&c={campaign_name}",
        "title": "Claim your 100% welcome bonus", "text": "Sign up in 30 seconds.",
        "button_label": "Get the bonus",
    })  # fmt: skip
    assert answer.status_code in (201, 409), answer.text


def visit(http: httpx.Client, slug: str, country: str, ad: tuple[str, str], campaign: str) -> str:
    answer = http.get(f"/l/{slug}", params={
        "campaign_id": "9001" if campaign == "promoX" else "9002", "campaign_name": campaign,
        "ad_id": ad[0], "ad_name": ad[1], "fbclid": "IwAR" + ad[0],
    }, headers={
        "CF-Connecting-IP": f"198.51.100.{random.randint(1, 250)}", "CF-IPCountry": country,
        "User-Agent": "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 "
                      "(KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
    })  # fmt: skip
    assert answer.status_code == 200, answer.text
    match = UID_IN_TARGET.search(answer.text)
    assert match, "the landing's button carries the uid"
    return match.group(1)


def send(http: httpx.Client, event: str, uid: str, **extra: object) -> None:
    answer = http.post("/events", json={"event": event, "uid": uid, **extra})
    assert answer.status_code == 200, answer.text


def seed(url: str, space: str, bearer: str, seed_value: int = 7) -> Traffic:
    """A believable funnel on two links: the testimonial creative converts, the others leak."""
    rng = random.Random(seed_value)
    random.seed(seed_value)
    traffic = Traffic()
    auth = {"Authorization": f"Bearer {bearer}"}
    with httpx.Client(base_url=url, headers=auth, timeout=30) as http:
        make_link(http, space, "fb-bonus", "FB — welcome bonus")
        make_link(http, space, "fb-retarget", "FB — retargeting")
        for slug, n in (("fb-bonus", 48), ("fb-retarget", 22)):
            uids = traffic.uids.setdefault(slug, [])
            for i in range(n):
                ad = ADS[i % len(ADS)]
                campaign = "promoX" if slug == "fb-bonus" else "retarget-7d"
                uid = visit(http, slug, rng.choice(COUNTRIES), ad, campaign)
                uids.append(uid)
                strong = ad[0] == "120001"
                if rng.random() < (0.7 if strong else 0.45):
                    send(http, "contact", uid)
                    if rng.random() < 0.75:
                        send(http, "subscribed", uid)
                        if rng.random() < (0.6 if strong else 0.2):
                            send(http, "registration", uid, eid=f"user-{uid[-6:]}")
                            if rng.random() < (0.55 if strong else 0.3):
                                amount = rng.choice(["25.00", "50.00", "100.00", "250.00"])
                                send(http, "deposit", uid, value=amount, eid=f"dep-{uid[-6:]}")
    return traffic


class _Receiver(BaseHTTPRequestHandler):
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        self.send_response(self.server.answer_status)  # type: ignore[attr-defined]
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(
            b'{"ok": true}' if self.server.answer_status == 200 else b'{"error": "bad token"}'
        )  # type: ignore[attr-defined]

    do_PUT = do_POST
    do_GET = do_POST

    def log_message(self, *args: object) -> None:
        return


@contextmanager
def receiver(status: int = 200) -> Iterator[str]:
    """A local webhook receiver answering ``status`` to every request."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.answer_status = status  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()
