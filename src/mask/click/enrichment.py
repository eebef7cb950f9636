"""From a raw click to a stored one: country/city, device/browser/OS, bot or human, referrer, visitor hash.

Libraries, each maintained for exactly this:
- `geoip2fast` ships IP→country data inside its PyPI package (IPv4 + IPv6, works offline). Its package has no
  city data (the city files are a separate download), so without a MaxMind database MASK stores the country
  only. `MASK_GEOIP_MMDB_PATH` points at a MaxMind GeoLite2/GeoIP2 (or DB-IP) `.mmdb` file, read with
  `maxminddb`, which adds the city.
- `ua-parser` (the uap-core regexes) names browser, OS and device; `crawlerdetect` (the CrawlerDetect list)
  says whether the client is a bot (named by ua-parser's family or CrawlerDetect's match, normalised), and
  mask.click.traffic whether it is a link-preview fetcher. Both are cached per user-agent string: real
  traffic repeats a few thousand strings.

The visitor hash is an HMAC of (UTC day, IP, user agent) keyed with MASK_SECRET_KEY: it identifies a visitor
for one day (unique clicks) and cannot be turned back into an IP address, nor linked across days.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from mask.click import traffic
from mask.click.schemas import MAX_PATH, EnrichedClick, RawClick

logger = logging.getLogger("mask.click")

MAX_REFERRER_URL = 2048
MAX_NAME = 50


@dataclass(frozen=True, slots=True)
class Agent:
    """What a user-agent string says about the client."""

    device: str | None  # desktop, mobile, tablet, bot, other
    browser: str | None
    os: str | None
    is_bot: bool
    bot_name: str | None = None  # a bot's short name (mask.click.traffic.bot_name) when known
    preview: bool = False  # a link-preview fetcher (mask.click.traffic.PREVIEW_BOTS)


@dataclass(frozen=True, slots=True)
class Place:
    country: str | None
    city: str | None


NOWHERE = Place(None, None)

_TABLET_HINTS = ("ipad", "tablet", "kindle", "silk/", "playbook", "nexus 7", "nexus 9", "nexus 10")
_DESKTOP_OSES = frozenset(
    {
        "Windows",
        "Mac OS X",
        "macOS",
        "Linux",
        "Ubuntu",
        "Chrome OS",
        "ChromeOS",
        "Fedora",
        "FreeBSD",
        "OpenBSD",
        "NetBSD",
        "Debian",
        "Mint",
        "Arch Linux",
        "Red Hat",
        "SUSE",
    }
)


def _known(value: str | None) -> str | None:
    return value[:MAX_NAME] if value and value != "Other" else None


@lru_cache(maxsize=8192)
def parse_agent(user_agent: str) -> Agent:
    """Browser, OS, device type and bot flag of a user-agent string. An empty user agent is a bot: every
    browser sends one, scripts often do not."""
    from crawlerdetect import CrawlerDetect
    from ua_parser import parse

    if not user_agent.strip():
        return Agent(device="bot", browser=None, os=None, is_bot=True)
    result = parse(user_agent)
    browser = _known(result.user_agent.family if result.user_agent else None)
    os = _known(result.os.family if result.os else None)
    device_family = result.device.family if result.device else None
    # A fresh CrawlerDetect per miss: it keeps the last match as state, and this may run in a worker thread.
    detector = CrawlerDetect()
    crawler = detector.is_crawler(user_agent)
    preview = traffic.preview_bot_name(user_agent)
    is_bot = device_family == "Spider" or crawler or preview is not None
    name = None
    if preview is not None:
        name = preview
    elif is_bot:  # ua-parser names well-known spiders (Googlebot); else what CrawlerDetect matched
        family = result.user_agent.family if result.user_agent else None
        name = traffic.bot_name(family if family and family != "Other" else (detector.getMatches() or None))
    lowered = user_agent.lower()
    if is_bot:
        device = "bot"
    elif any(hint in lowered for hint in _TABLET_HINTS) or (os == "Android" and "mobile" not in lowered):
        device = "tablet"
    elif "mobi" in lowered or os in ("iOS", "Android") or "iphone" in lowered:
        device = "mobile"
    elif os in _DESKTOP_OSES:
        device = "desktop"
    else:
        device = "other"
    return Agent(device=device, browser=browser, os=os, is_bot=is_bot, bot_name=name, preview=preview is not None)


def referrer_parts(referrer: str) -> tuple[str | None, str | None]:
    """(host, URL) of a Referer header; (None, None) for a direct visit or a header that is not a URL."""
    text = referrer.strip()
    if not text:
        return None, None
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None, None
    if not host:
        return None, None
    return host.lower().rstrip(".")[:253], text[:MAX_REFERRER_URL]


def _valid_country(code: Any) -> str | None:
    return code if isinstance(code, str) and len(code) == 2 and code.isalpha() and code.isupper() else None


@lru_cache(maxsize=1)
def _geoip2fast() -> Any:
    """The bundled database, loaded once per process (about 0.1 s, some tens of MB): IPv4 and IPv6."""
    from geoip2fast import GeoIP2Fast

    return GeoIP2Fast(geoip2fast_data_file="geoip2fast-ipv6.dat.gz")


class GeoLocator:
    """IP address → country (and city with an .mmdb file). Private, reserved, unknown addresses: nowhere."""

    def __init__(self, mmdb_path: str | None = None) -> None:
        self._lookup: Callable[[str], Place]
        if mmdb_path:
            import maxminddb

            reader = maxminddb.open_database(mmdb_path)
            self._lookup = lambda ip: self._from_mmdb(reader.get(ip))
            self.source = f"mmdb:{mmdb_path}"
        else:
            database = _geoip2fast()
            self._lookup = lambda ip: Place(_valid_country(database.lookup(ip).country_code), None)
            self.source = "geoip2fast"

    @staticmethod
    def _from_mmdb(record: Any) -> Place:
        if not isinstance(record, dict):
            return NOWHERE
        country_record = record.get("country") or record.get("registered_country") or {}
        country = _valid_country(country_record.get("iso_code"))
        names = (record.get("city") or {}).get("names") or {}
        city = names.get("en") if isinstance(names, dict) else None
        return Place(country, city[:100] if isinstance(city, str) and city else None)

    def locate(self, ip: str | None) -> Place:
        if not ip:
            return NOWHERE
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return NOWHERE
        if not address.is_global:
            return NOWHERE
        try:
            return self._lookup(str(address))
        except Exception:  # a corrupt or unexpected database entry must not stop the click from being stored
            logger.exception("geo lookup failed for one click")
            return NOWHERE


def _traffic(raw: RawClick, agent: Agent) -> dict[str, Any]:
    """What the hit was (mask.click.traffic), and an orphan's type and path. A prefetch is one whatever its
    user agent says: the request itself said so."""
    if raw.purpose:
        kind, name = traffic.PREFETCH, None
    elif agent.preview:
        kind, name = traffic.PREVIEW, agent.bot_name
    elif agent.is_bot:
        kind, name = traffic.BOT, agent.bot_name
    else:
        kind, name = traffic.HUMAN, None
    path = raw.path[:MAX_PATH] if raw.orphan_type is not None and raw.path is not None else None
    return {"traffic_type": kind, "bot_name": name, "orphan_type": raw.orphan_type, "path": path}


class Enricher:
    """Builds `EnrichedClick`s from `RawClick`s. Pure CPU; safe to run in a worker thread."""

    def __init__(self, *, secret_key: str, mmdb_path: str | None = None) -> None:
        self._key = hashlib.sha256(b"mask-visitor:" + secret_key.encode()).digest()
        self._mmdb_path = mmdb_path
        self._geo: GeoLocator | None = None

    @property
    def geo(self) -> GeoLocator:
        """Loaded on first use: serving processes, which never enrich, do not carry the IP database."""
        if self._geo is None:
            self._geo = GeoLocator(self._mmdb_path)
        return self._geo

    def visitor_hash(self, day: str, ip: str | None, user_agent: str) -> str:
        message = f"{day}\x00{ip or ''}\x00{user_agent}".encode("utf-8", "surrogateescape")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def enrich(self, raw: RawClick) -> EnrichedClick:
        clicked_at = datetime.fromtimestamp(raw.at, UTC)
        agent = parse_agent(raw.user_agent[:1024])
        place = self.geo.locate(raw.ip)
        referrer, referrer_url = referrer_parts(raw.referrer)
        return EnrichedClick(
            click_id=raw.click_id,
            clicked_at=clicked_at,
            workspace_id=raw.workspace_id,
            domain=raw.domain,
            visitor_hash=self.visitor_hash(clicked_at.date().isoformat(), raw.ip, raw.user_agent),
            link_id=raw.link_id,
            bio_page_id=raw.bio_page_id,
            bio_block_id=raw.bio_block_id,
            country=place.country,
            city=place.city,
            device=agent.device,
            browser=agent.browser,
            os=agent.os,
            referrer=referrer,
            referrer_url=referrer_url,
            utm_source=raw.utm_source,
            utm_medium=raw.utm_medium,
            utm_campaign=raw.utm_campaign,
            utm_term=raw.utm_term,
            utm_content=raw.utm_content,
            is_bot=agent.is_bot or bool(raw.purpose),
            trigger=raw.trigger,
            **_traffic(raw, agent),
            destination_url=raw.destination_url,
            rule_index=raw.rule_index,
            variant=raw.variant,
            passed_password=raw.passed_password,
        )

    def enrich_all(self, raws: list[RawClick]) -> list[EnrichedClick]:
        return [self.enrich(raw) for raw in raws]

    def warm_up(self) -> None:
        """Load the IP database and compile the user-agent and crawler patterns now rather than inside the
        first batch."""
        self.geo.locate("8.8.8.8")
        parse_agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36")
