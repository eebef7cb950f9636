"""Destination URL and hostname rules, on the WHATWG URL parser (ada-url, the parser inside Node.js).

A browser will follow exactly the URL we store, so we parse as a browser does and store the serialised form:
internationalised hosts become punycode, paths are percent-encoded, default ports dropped.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass

import ada_url

MAX_URL_LENGTH = 2048
ALLOWED_SCHEMES = frozenset({"http:", "https:"})
DEFAULT_PORTS = {"http": 80, "https": 443}
C0_AND_SPACE = "".join(chr(code) for code in range(0x21))
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UrlProblem(Exception):
    """Why a URL or host is refused: a stable `code` and a message for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ParsedUrl:
    href: str
    scheme: str  # "http" or "https"
    hostname: str  # punycode, lower case; IPv6 in brackets
    host: str  # hostname[:port]
    port: int  # the port a browser connects to: explicit, else the scheme's default

    @property
    def site(self) -> str:
        """The host name a browser resolves: without the trailing dot (`sho.rt.` is `sho.rt`)."""
        return self.hostname.rstrip(".")


def parse_destination(raw: str, *, schemes: frozenset[str] = ALLOWED_SCHEMES) -> ParsedUrl:
    """Parse and normalise a destination URL, or raise UrlProblem saying why it is refused."""
    if not raw or not raw.strip(C0_AND_SPACE):
        raise UrlProblem("url_required", "The URL is empty.")
    if len(raw) > MAX_URL_LENGTH:
        raise UrlProblem("url_too_long", f"The URL is longer than {MAX_URL_LENGTH} characters.")
    text = raw.strip(C0_AND_SPACE)  # what the WHATWG parser strips at both ends
    plain = plain_url(text)
    if plain is None or f"{plain.scheme}:" not in schemes:
        return _parse_whatwg(text, schemes)
    if len(plain.href) > MAX_URL_LENGTH:
        raise UrlProblem("url_too_long", f"The URL is longer than {MAX_URL_LENGTH} characters once normalised.")
    return plain


# A plain http(s) URL: ASCII; a host name of letter-digit-hyphen labels, the last starting with a letter (so never
# read as an IPv4 address); a port the serialisation keeps; a path, query and fragment of characters the WHATWG
# parser copies as they are (nothing it percent-encodes, no `\`). `xn--` labels and dot segments are checked after.
_PLAIN_URL = re.compile(
    r"(?P<scheme>https?)://"
    r"(?P<hostname>(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z](?:[a-z0-9-]*[a-z0-9])?\.?)"
    r"(?::(?P<port>[1-9][0-9]{0,4}))?"
    r"(?P<path>/[a-z0-9\-._~!$&'()*+,;=:@/%]*)?"
    r"(?P<rest>(?:\?[a-z0-9\-._~!$&()*+,;=:@/?%]*)?(?:#[a-z0-9\-._~!$&'()*+,;=:@/?%]*)?)",
    re.ASCII | re.IGNORECASE,
)
# What the WHATWG parser would resolve or rewrite in a path: `.` and `..` segments, spelled out or encoded.
_DOT_SEGMENT = re.compile(r"/\.\.?(?:/|$)|%2e", re.ASCII | re.IGNORECASE)


def plain_url(text: str) -> ParsedUrl | None:
    """`text` (stripped as the WHATWG parser strips it) when it is a plain http(s) URL whose serialisation is
    itself, but for the scheme's and host's case and the `/` of an empty path: the ParsedUrl the WHATWG parser
    gives, without calling it (a bulk create parses a thousand URLs a request). None for anything else, which
    goes through the parser (tests/unit/test_url_fast_path.py holds both to the WHATWG and IDNA corpora)."""
    found = _PLAIN_URL.fullmatch(text) if text.isascii() else None
    if found is None:
        return None
    scheme, hostname, port, path, rest = found.group("scheme", "hostname", "port", "path", "rest")
    hostname = hostname.lower()
    if "xn--" in hostname or (path is not None and _DOT_SEGMENT.search(path)):
        return None
    scheme = scheme.lower()
    if port is None:
        host, number = hostname, DEFAULT_PORTS[scheme]
    else:
        number = int(port)
        if number > 65535 or number == DEFAULT_PORTS[scheme]:  # refused, or dropped from the serialisation
            return None
        host = f"{hostname}:{port}"
    href = f"{scheme}://{host}{path or '/'}{rest}"
    return ParsedUrl(href=href, scheme=scheme, hostname=hostname, host=host, port=number)


def _parse_whatwg(text: str, schemes: frozenset[str]) -> ParsedUrl:
    """The WHATWG parser's reading of `text`, with MASK's rules on top."""
    # Lone surrogates (JSON allows "\ud800") become U+FFFD, as in a browser; pairs are joined.
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    # A browser strips these too; we refuse instead of guessing, since they are a classic filter bypass.
    if _CONTROL.search(text):
        raise UrlProblem("invalid_url", "The URL contains control characters (tabs, newlines, …).")
    try:
        url = ada_url.URL(text)
    except ValueError as error:
        raise UrlProblem("invalid_url", "This is not a valid absolute URL.") from error
    # Each attribute of an ada URL is a call into C and a new string: read each once.
    protocol = url.protocol
    if protocol not in schemes:
        allowed = " or ".join(sorted(scheme.rstrip(":") for scheme in schemes))
        raise UrlProblem("unsupported_scheme", f"Only {allowed} URLs are allowed, not `{protocol}`.")
    href = url.href
    if "@" in href and (url.username or url.password):  # credentials are always serialised before an `@`
        raise UrlProblem("credentials_in_url", "The URL must not contain a user name or password.")
    hostname = url.hostname.lower()
    if protocol in ("http:", "https:") and not hostname:
        raise UrlProblem("invalid_url", "The URL has no host.")
    if "xn--" in hostname and not _valid_punycode(hostname):
        raise UrlProblem("invalid_url", "The URL's host has an invalid internationalised (xn--) label.")
    if len(href) > MAX_URL_LENGTH:
        raise UrlProblem("url_too_long", f"The URL is longer than {MAX_URL_LENGTH} characters once normalised.")
    scheme = protocol.rstrip(":")
    host = url.host.lower()
    explicit = url.port if len(host) > len(hostname) else ""  # `host` is `hostname` with `:port` when one is set
    port = int(explicit) if explicit else DEFAULT_PORTS.get(scheme, 0)
    return ParsedUrl(href=href, scheme=scheme, hostname=hostname, host=host, port=port)


def is_loopback(hostname: str) -> bool:
    """Whether a (normalised) host name always means this machine: `localhost`, `*.localhost` (browsers resolve
    those to loopback themselves), 127.0.0.0/8 and ::1 in any spelling the WHATWG parser accepts."""
    name = hostname.rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    if ":" not in name and not name[-1:].isdigit():
        return False  # neither IPv6 nor dotted IPv4 (which ends in a digit): a name, not an address
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


@functools.lru_cache(maxsize=256)
def split_host(host: str) -> tuple[str, int | None]:
    """`name[:port]` (IPv6 in brackets) → (name without trailing dot, port or None). Remembered: the short
    domain is split again for every destination checked."""
    if host.startswith("["):
        name, _, rest = host.partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        name += "]"
    else:
        name, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
    return name.rstrip(".").lower(), int(port) if port.isdigit() else None


def _valid_punycode(hostname: str) -> bool:
    """Every `xn--` label must decode and re-encode to itself (UTS #46 validity, which ada-url skips)."""
    for label in hostname.split("."):
        if not label.startswith("xn--"):
            continue
        try:
            decoded = label[4:].encode("ascii").decode("punycode")
        except (UnicodeError, ValueError):
            return False
        if not decoded or decoded.isascii() or ada_url.idna_to_ascii(decoded).decode("ascii").lower() != label:
            return False
    return True


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
    if not _valid_punycode(ascii_host):
        raise UrlProblem("invalid_domain", "This is not a valid domain name.")
    try:
        ipaddress.ip_address(ascii_host)
    except ValueError:
        pass
    else:
        raise UrlProblem("invalid_domain", "A short domain must be a host name, not an IP address.")
    labels = ascii_host.split(".")
    if len(labels) < 2:
        raise UrlProblem("invalid_domain", "A short domain needs at least two labels, like `go.example.com`.")
    if len(ascii_host) > 253:
        raise UrlProblem("invalid_domain", "A domain name is at most 253 characters.")
    for label in labels:
        if not 1 <= len(label) <= 63 or label.startswith("-") or label.endswith("-"):
            raise UrlProblem("invalid_domain", "This is not a valid domain name.")
        if not all(char.isascii() and (char.isalnum() or char == "-") for char in label):
            raise UrlProblem("invalid_domain", "This is not a valid domain name.")
    if labels[-1].isdigit():
        raise UrlProblem("invalid_domain", "This is not a valid domain name.")
    return ascii_host
