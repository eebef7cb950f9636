"""Cookies, CSRF and safe redirects for the dashboard.

- The session cookie carries a random 256-bit token; the database keeps only its SHA-256 (mask.account).
  HttpOnly, SameSite=Lax, Path=/; in production also Secure and the `__Host-` prefix (no Domain, so a sibling
  subdomain can neither read nor plant it).
- CSRF: every state-changing request (anything but GET/HEAD) carries a token in the form (`csrf_token`) or the
  `X-CSRF-Token` header. Logged in, it is the session's own random secret (synchronizer token). Logged out (the
  login and sign-up forms), it is an HMAC of a random cookie under MASK_SECRET_KEY (signed double submit), so a
  planted cookie is useless without the key. A request whose Origin or Sec-Fetch-Site says "another site" is
  refused outright.
- `next=` after login only ever leads to a path of this dashboard.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from mask.config import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DASHBOARD_ROOT = "/app"


def cookie_name(settings: Settings, base: str) -> str:
    return f"__Host-{base}" if settings.is_production else base


def session_cookie(settings: Settings) -> str:
    return cookie_name(settings, "mask_session")


def anon_cookie(settings: Settings) -> str:
    return cookie_name(settings, "mask_csrf")


def set_cookie(response: Response, settings: Settings, name: str, value: str, *, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=settings.is_production
    )


def clear_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=settings.is_production)


def new_anon_seed() -> str:
    return secrets.token_urlsafe(32)


def anon_csrf_token(settings: Settings, seed: str) -> str:
    return hmac.new(settings.secret_key.encode(), b"csrf:" + seed.encode(), hashlib.sha256).hexdigest()


def tokens_match(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def cross_site(request: Request) -> bool:
    """Whether the browser tells us the request comes from another site (Fetch Metadata, then Origin)."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    if origin == "null" and fetch_site == "same-origin":
        # A page served with `Referrer-Policy: no-referrer` (a shared dashboard's password form) posts with
        # `Origin: null`; the browser's own Sec-Fetch-Site, which no page can set, says where it came from.
        return False
    host = request.headers.get("host", "")
    own = {f"http://{host}", f"https://{host}"}
    return origin.lower() not in own


def safe_next(value: str | None) -> str | None:
    """`value` if it is a path inside the dashboard, else None (no scheme, host, `//`, `\\`, control characters)."""
    if not value or len(value) > 2000:
        return None
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in value) or "\\" in value:
        return None
    if not value.startswith("/") or value.startswith("//"):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    path = parts.path
    if path != DASHBOARD_ROOT and not path.startswith(DASHBOARD_ROOT + "/"):
        return None
    if any(segment in ("..", ".") for segment in path.split("/")) or "%" in path:
        return None
    return value


def seal(token: str, text: str) -> str:
    """`text` encrypted and authenticated under the session cookie's token, for the session row's flash: the
    database keeps only the token's hash, so a copy of the table cannot open it. SHAKE-256 keyed by the token and a
    fresh nonce is the key stream; an HMAC-SHA256 under a second key derived from the token is the tag."""
    nonce = secrets.token_bytes(16)
    data = text.encode("utf-8")
    stream = hashlib.shake_256(b"mask-flash-stream\0" + token.encode() + nonce).digest(len(data))
    body = bytes(left ^ right for left, right in zip(data, stream, strict=True))
    tag = hmac.new(_flash_mac_key(token), nonce + body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(nonce + tag + body).decode("ascii")


def unseal(token: str, sealed: str) -> str | None:
    """The text `seal` sealed under `token`; None when it was sealed under another token or altered."""
    try:
        raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
    except ValueError:
        return None
    nonce, tag, body = raw[:16], raw[16:48], raw[48:]
    if len(tag) != 32 or not hmac.compare_digest(
        tag, hmac.new(_flash_mac_key(token), nonce + body, hashlib.sha256).digest()
    ):
        return None
    stream = hashlib.shake_256(b"mask-flash-stream\0" + token.encode() + nonce).digest(len(body))
    return bytes(left ^ right for left, right in zip(body, stream, strict=True)).decode("utf-8")


def _flash_mac_key(token: str) -> bytes:
    return hashlib.sha256(b"mask-flash-mac\0" + token.encode()).digest()
