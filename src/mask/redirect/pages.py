"""The few non-redirect answers of short domains: small, static, and in JSON for clients that ask for it."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from mask.kit.http import json_dumps
from mask.public.domains import NOT_VERIFIED_HTML, NOT_VERIFIED_JSON

NO_STORE = (b"cache-control", b"private, no-store, max-age=0")


@dataclass(frozen=True, slots=True)
class Page:
    status: int
    html: bytes
    json: bytes


def _page(status: int, code: str, title: str, message: str) -> Page:
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>{escape(title)}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;color:#1f2328;display:grid;place-items:center;
min-height:90vh;margin:0}} main{{max-width:32rem;padding:2rem;text-align:center}}
h1{{font-size:1.5rem;margin:0 0 .5rem}} p{{color:#59636e}}</style>
</head><body><main><h1>{escape(title)}</h1><p>{escape(message)}</p></main></body></html>
""".encode()
    body = {
        "error": {"type": "invalid_request_error", "code": code, "message": message, "param": None, "request_id": None}
    }
    return Page(status, html, json_dumps(body))


NOT_FOUND = _page(
    404,
    "link_not_found",
    "Link not found",
    "This short link does not exist. Check the address, or ask whoever shared it.",
)
DISABLED = _page(
    404, "link_disabled", "Link unavailable", "This short link has been turned off by its owner and does not redirect."
)
# Suspended by the operator (abuse, a blocklisted destination): neutral, 451 Unavailable For Legal Reasons.
SUSPENDED = _page(451, "link_suspended", "Link disabled", "This link has been disabled.")
EXPIRED = _page(410, "link_expired", "Link expired", "This short link has expired and no longer redirects.")
METHOD_NOT_ALLOWED = _page(405, "method_not_allowed", "Method not allowed", "Short links answer GET and HEAD only.")
NOT_YET_ACTIVE = _page(
    404, "link_not_active", "Link not active yet", "This short link is not active yet. Try again later."
)
TOO_LARGE = _page(413, "request_too_large", "Request too large", "A password form is at most 4 KB.")


def wants_json(accept: bytes) -> bool:
    """JSON when the client asks for JSON and not for HTML (browsers always list text/html)."""
    return b"json" in accept and b"text/html" not in accept


# A host name nobody has verified (or not yet): neutral, so a squatter's claim shows nothing of theirs.
NOT_VERIFIED = Page(404, NOT_VERIFIED_HTML, NOT_VERIFIED_JSON)
