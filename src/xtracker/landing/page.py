"""The landing page: small, fast, works without JavaScript.

Every value from the link is HTML-escaped; the target URL is escaped as an attribute.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

_STYLE = (
    "*{box-sizing:border-box}body{margin:0;min-height:100vh;display:flex;align-items:center;"
    "justify-content:center;font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;"
    "background:#0f172a;color:#e2e8f0}main{max-width:28rem;padding:2rem;text-align:center}"
    "img{max-width:100%;border-radius:12px;margin-bottom:1rem}h1{font-size:1.6rem;margin:0 0 .5rem}"
    "p{color:#94a3b8;white-space:pre-line}a.btn{display:inline-block;margin-top:1.25rem;"
    "padding:.9rem 2.2rem;border-radius:999px;background:#3b82f6;color:#fff;font-weight:600;"
    "text-decoration:none}a.btn:hover{background:#2563eb}.note{font-size:.85rem;color:#f87171}"
)


@dataclass(frozen=True, slots=True)
class LandingContent:
    title: str
    text: str
    button_label: str
    image_url: str | None
    pixel_id: str | None


def _pixel(pixel_id: str, event_id: str) -> str:
    pid = escape(pixel_id)
    return (
        "<script>!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?"
        "n.callMethod.apply(n,arguments):n.queue.push(arguments)};if(!f._fbq)f._fbq=n;n.push=n;"
        "n.loaded=!0;n.version='2.0';n.queue=[];t=b.createElement(e);t.async=!0;t.src=v;"
        "s=b.getElementsByTagName(e)[0];s.parentNode.insertBefore(t,s)}(window,document,"
        "'script','https://connect.facebook.net/en_US/fbevents.js');"
        f"fbq('init','{pid}');fbq('track','PageView',{{}},{{eventID:'{escape(event_id)}'}});"
        "</script>"
    )


def render_landing(
    content: LandingContent,
    target: str | None,
    *,
    uid: str,
    redirect_after_s: int | None = None,
    note: str | None = None,
) -> bytes:
    title = escape(content.title)
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        '<meta name="robots" content="noindex">',
        f"<title>{title}</title>",
        f'<meta property="og:title" content="{title}">',
    ]
    if content.text:
        parts.append(f'<meta property="og:description" content="{escape(content.text[:300])}">')
    if content.image_url:
        parts.append(f'<meta property="og:image" content="{escape(content.image_url)}">')
    if target and redirect_after_s is not None:
        parts.append(
            f'<meta http-equiv="refresh" content="{redirect_after_s};url={escape(target)}">'
        )
    parts.append(f"<style>{_STYLE}</style>")
    if content.pixel_id:
        parts.append(_pixel(content.pixel_id, uid))
    parts.append("</head><body><main>")
    if content.image_url:
        parts.append(f'<img src="{escape(content.image_url)}" alt="">')
    parts.append(f"<h1>{title}</h1>")
    if content.text:
        parts.append(f"<p>{escape(content.text)}</p>")
    if target:
        parts.append(
            f'<a class="btn" id="go" href="{escape(target)}" rel="noopener">'
            f"{escape(content.button_label)}</a>"
        )
    if note:
        parts.append(f'<p class="note">{escape(note)}</p>')
    parts.append("</main></body></html>")
    return "".join(parts).encode()


NOT_FOUND_PAGE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not found</title>'
    b'<meta name="viewport" content="width=device-width,initial-scale=1"></head>'
    b'<body style="font-family:system-ui;text-align:center;padding:4rem">'
    b"<h1>Link not found</h1><p>This link does not exist or is no longer active.</p>"
    b"</body></html>"
)
