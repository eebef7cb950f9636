"""Destination URL and hostname rules, on the WHATWG URL parser (ada-url, the parser inside Node.js).

A browser will follow exactly the URL we store, so we parse as a browser does and store the serialised form:
internationalised hosts become punycode, paths are percent-encoded, default ports dropped.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import ada_url

MAX_URL_LENGTH = 2048
ALLOWED_SCHEMES = frozenset({"http:", "https:"})


@dataclass(frozen=True)
class UrlProblem(Exception):
    code: str
    message: str


@dataclass(frozen=True)
class ParsedUrl:
    href: str
    scheme: str  # "http" or "https"
    hostname: str  # punycode, lower case; IPv6 in brackets
    host: str  # hostname[:port]


def parse_destination(raw: str, *, schemes: frozenset[str] = ALLOWED_SCHEMES) -> ParsedUrl:
    """Parse and normalise a destination URL, or raise UrlProblem saying why it is refused."""
    if not raw or not raw.strip():
        raise UrlProblem("url_required", "The URL is empty.")
    if len(raw) > MAX_URL_LENGTH:
        raise UrlProblem("url_too_long", f"The URL is longer than {MAX_URL_LENGTH} characters.")
    text = raw.strip()
    # A browser strips these too; we refuse instead of guessing, since they are a classic filter bypass.
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in text):
        raise UrlProblem("invalid_url", "The URL contains control characters (tabs, newlines, …).")
    try:
        url = ada_url.URL(text)
    except ValueError as error:
        raise UrlProblem("invalid_url", "This is not a valid absolute URL.") from error
    if url.protocol not in schemes:
        allowed = " or ".join(sorted(scheme.rstrip(":") for scheme in schemes))
        raise UrlProblem("unsupported_scheme", f"Only {allowed} URLs are allowed, not `{url.protocol}`.")
    if url.username or url.password:
        raise UrlProblem("credentials_in_url", "The URL must not contain a user name or password.")
    if url.protocol in ("http:", "https:") and not url.hostname:
        raise UrlProblem("invalid_url", "The URL has no host.")
    href = url.href
    if len(href) > MAX_URL_LENGTH:
        raise UrlProblem("url_too_long", f"The URL is longer than {MAX_URL_LENGTH} characters once normalised.")
    return ParsedUrl(href=href, scheme=url.protocol.rstrip(":"), hostname=url.hostname.lower(),
                     host=url.host.lower())


def normalize_hostname(raw: str) -> str:
    """A domain name for a short domain: IDNA → punycode, lower case; no IP address, port, path or scheme."""
    text = raw.strip().rstrip(".").lower()
    if not text:
        raise UrlProblem("invalid_domain", "The domain is empty.")
    if "/" in text or ":" in text or "@" in text or "?" in text or "#" in text or " " in text:
        raise UrlProblem("invalid_domain", "Give a bare host name like `go.example.com`, without scheme, port or path.")
    try:  # the WHATWG host parser: UTS #46 ToASCII exactly as browsers apply it
        ascii_host = ada_url.URL(f"http://{text}/").hostname.lower().rstrip(".")
    except ValueError as error:
        raise UrlProblem("invalid_domain", "This is not a valid domain name.") from error
    try:
        ipaddress.ip_address(ascii_host)
    except ValueError:
        pass
    else:
        raise UrlProblem("invalid_domain", "A short domain must be a host name, not an IP address.")
    labels = ascii_host.split(".")
    if len(labels) < 2 or len(ascii_host) > 253:
        raise UrlProblem("invalid_domain", "A short domain needs at least two labels, like `go.example.com`.")
    for label in labels:
        if not 1 <= len(label) <= 63 or label.startswith("-") or label.endswith("-"):
            raise UrlProblem("invalid_domain", "This is not a valid domain name.")
        if not all(char.isascii() and (char.isalnum() or char == "-") for char in label):
            raise UrlProblem("invalid_domain", "This is not a valid domain name.")
    if labels[-1].isdigit():
        raise UrlProblem("invalid_domain", "This is not a valid domain name.")
    return ascii_host
