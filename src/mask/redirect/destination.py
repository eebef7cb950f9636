"""Where a redirect sends the visitor: the link's URL, its UTM fields, and the short URL's own query.

Precedence, lowest to highest (the most specific to this click wins):
1. parameters already in the destination URL,
2. the link's UTM fields (`utm_source` … `utm_content`): they replace a same-named parameter of the URL,
3. query parameters on the short URL (`/slug?utm_source=newsletter&ref=x`): passed through, replacing
   same-named ones.
Everything else keeps its order; the fragment stays last.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote_plus

from mask.click.schemas import UTM_NAMES
from mask.qr.marker import QR_MARKER as QR_PAIR

# Characters a query may carry as they are (RFC 3986 query = pchar / "/" / "?"); the rest is percent-encoded,
# which also keeps CR/LF and other control bytes out of the Location header.
_QUERY_SAFE = "/?:@!$&'()*+,;=-._~%"

# The most of a short URL's query (once encoded) that is passed on; a longer one is dropped, not cut (a cut
# value would be wrong), and the visitor goes to the destination as without a query.
MAX_PASSED_QUERY = 2048

Utm = tuple[str | None, str | None, str | None, str | None, str | None]

# The pair a QR code's URL ends with (mask.qr.marker): a click that carries it is a scan. The redirect strips
# it, so the destination never sees it; any other `qr` value passes through as usual.
QR_MARKER = QR_PAIR.encode()


def split_trigger(query: bytes) -> tuple[bytes, str]:
    """The short URL's query without the QR marker, and the click's trigger: `qr` when it was there."""
    if not query or QR_MARKER not in query:
        return query, "link"
    pairs = query.split(b"&")
    kept = [pair for pair in pairs if pair != QR_MARKER]
    if len(kept) == len(pairs):
        return query, "link"
    return b"&".join(kept), "qr"


def _key(pair: str) -> str:
    return unquote_plus(pair.split("=", 1)[0])


def _utm_of(pairs: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for pair in pairs:
        name = _key(pair)
        if name in UTM_NAMES:
            found[name] = unquote_plus(pair.split("=", 1)[1]) if "=" in pair else ""
    return found


@dataclass(frozen=True, slots=True)
class Destination:
    """A link's destination with its UTM fields applied, ready to take a short URL's query per click."""

    location: str  # the Location for a click without a query string
    utm: Utm  # the UTM values `location` carries (what a click without query records)
    _base: str  # scheme://host/path, without query and fragment
    _pairs: tuple[str, ...]  # the query's `name=value` parts, still encoded
    _fragment: str
    location_header: tuple[bytes, bytes]  # `location` as a header, encoded once

    @classmethod
    def build(cls, url: str, utm: dict[str, str | None]) -> Destination:
        rest, hash_mark, fragment = url.partition("#")
        base, _, query = rest.partition("?")
        pairs = [pair for pair in query.split("&") if pair]
        overrides = {name: value for name, value in utm.items() if value}
        if overrides:
            pairs = [pair for pair in pairs if _key(pair) not in overrides]
            pairs += [f"{name}={quote(value, safe='')}" for name, value in overrides.items()]
        fragment = hash_mark + fragment
        location = _join(base, pairs, fragment)
        found = _utm_of(pairs)
        found_utm: Utm = tuple(found.get(name) for name in UTM_NAMES)  # type: ignore[assignment]
        return cls(
            location,
            found_utm,
            base,
            tuple(pairs),
            fragment,
            (b"location", location.encode("latin-1")),
        )

    def with_query(self, query_string: bytes) -> tuple[str, Utm]:
        """The Location and UTM values for a click whose short URL carried `query_string` (raw, from ASGI)."""
        if not query_string:
            return self.location, self.utm
        query = quote(query_string.decode("latin-1"), safe=_QUERY_SAFE)
        if len(query) > MAX_PASSED_QUERY:  # dropped: the visitor still gets to the destination
            return self.location, self.utm
        extra = [pair for pair in query.split("&") if pair]
        if not extra:
            return self.location, self.utm
        names = {_key(pair) for pair in extra}
        pairs = [pair for pair in self._pairs if _key(pair) not in names] + extra
        utm = self.utm
        if any(name.startswith("utm_") for name in names):
            found = _utm_of(pairs)
            utm = tuple(found.get(name) for name in UTM_NAMES)  # type: ignore[assignment]
        return _join(self._base, pairs, self._fragment), utm


def _join(base: str, pairs: list[str], fragment: str) -> str:
    return f"{base}?{'&'.join(pairs)}{fragment}" if pairs else f"{base}{fragment}"
