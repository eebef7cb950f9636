"""Targeting rules and A/B variants on the redirect path: compiled once per cache fill, evaluated per click.

A rule is a destination and conditions, all of which must hold; the first rule whose conditions hold wins
(Shlink's model). The facts a condition reads (the parsed user agent, Accept-Language, the country) are worked
out only when a condition asks for them, once per click.

The vocabulary (what a condition's `type` and `value` may be) is mask.link.rules'; tests/redirect/test_rules.py
checks that both sides know the same names.
"""

from __future__ import annotations

import ipaddress
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from mask.click.enrichment import Agent, parse_agent
from mask.redirect.destination import Destination

# Operating systems and browsers by the name a rule uses (mask.link.rules.OSES, BROWSERS) → the families the
# user-agent parser reports.
OSES: dict[str, tuple[str, ...]] = {
    "ios": ("ios",),
    "android": ("android",),
    "windows": ("windows",),
    "macos": ("mac os x", "macos"),
    "linux": ("linux", "ubuntu", "debian", "fedora", "mint", "arch linux", "red hat", "suse"),
    "chromeos": ("chrome os", "chromeos"),
}
PER_CLICK = frozenset({"ip", "country", "city", "before", "after"})  # conditions not decided by the headers alone
BROWSERS: dict[str, tuple[str, ...]] = {
    "chrome": ("chrome", "chrome mobile", "chrome mobile ios", "chrome mobile webview", "chromium"),
    "safari": ("safari", "mobile safari", "mobile safari ui/wkwebview"),
    "firefox": ("firefox", "firefox mobile", "firefox ios"),
    "edge": ("edge", "edge mobile"),
    "opera": ("opera", "opera mobile", "opera mini"),
    "samsung": ("samsung internet",),
}


class Facts:
    """What conditions may ask about one click; each fact is worked out on first use."""

    __slots__ = ("_address", "_agent", "_place", "accept_language", "ip", "locate", "now", "query", "user_agent")

    def __init__(
        self,
        *,
        user_agent: str,
        accept_language: bytes,
        query: bytes,
        ip: str | None,
        now: float,
        locate: Callable[[str | None], tuple[str | None, str | None]] | None,  # ip → (country, city)
    ) -> None:
        self.user_agent = user_agent
        self.accept_language = accept_language
        self.query = query
        self.ip = ip
        self.now = now
        self.locate = locate
        self._agent: Agent | None = None
        self._place: tuple[str | None, str | None] | None = None
        self._address: Any = False

    @property
    def agent(self) -> Agent:
        if self._agent is None:
            self._agent = parse_agent(self.user_agent[:1024])
        return self._agent

    @property
    def languages(self) -> tuple[str, ...]:
        return accepted_languages(self.accept_language) if self.accept_language else ()

    @property
    def place(self) -> tuple[str | None, str | None]:
        if self._place is None:
            self._place = self.locate(self.ip) if self.locate is not None else (None, None)
        return self._place

    @property
    def params(self) -> tuple[tuple[str, str], ...]:
        return query_params(self.query) if self.query else ()

    @property
    def address(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        if self._address is False:
            try:
                self._address = ipaddress.ip_address(self.ip) if self.ip else None
            except ValueError:
                self._address = None
        return self._address  # type: ignore[no-any-return]


@lru_cache(maxsize=4096)
def query_params(query: bytes) -> tuple[tuple[str, str], ...]:
    return tuple(parse_qsl(query.decode("latin-1"), keep_blank_values=True))


@lru_cache(maxsize=4096)
def accepted_languages(header: bytes | str) -> tuple[str, ...]:
    """The language tags an Accept-Language header accepts (q > 0), most wanted first, lower-case; `*` left out.
    Cached per header value: browsers send a handful of distinct ones."""
    if isinstance(header, bytes):
        header = header.decode("latin-1")
    found: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:32]):
        tag, *params = (piece.strip() for piece in part.split(";"))
        if not tag or tag == "*":
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            found.append((-quality, index, tag.lower()))
    return tuple(tag for _, _, tag in sorted(found))


def language_matches(wanted: str, accepted: tuple[str, ...]) -> bool:
    """`es` matches `es` and `es-AR`; `es-AR` matches `es-AR` (and its own subtags) only."""
    return any(tag == wanted or tag.startswith(wanted + "-") for tag in accepted)


Condition = Callable[[Facts], bool]


def compile_condition(raw: dict[str, Any]) -> Condition:
    """A stored condition (validated by mask.link.rules) → a predicate over one click's facts."""
    kind = raw["type"]
    value = raw.get("value")
    if kind == "device":
        return lambda facts: facts.agent.device == value
    if kind == "os":
        families = OSES.get(str(value), ())
        return lambda facts: (facts.agent.os or "").lower() in families
    if kind == "browser":
        families = BROWSERS.get(str(value), ())
        return lambda facts: (facts.agent.browser or "").lower() in families
    if kind == "language":
        wanted = str(value).lower()
        return lambda facts: language_matches(wanted, facts.languages)
    if kind == "country":
        country = str(value).upper()
        return lambda facts: facts.place[0] == country
    if kind == "city":
        city = str(value).casefold()
        return lambda facts: (facts.place[1] or "").casefold() == city
    if kind == "query_param":
        name = str(raw["name"])
        if value is None:
            return lambda facts: any(key == name for key, _ in facts.params)
        return lambda facts: (name, value) in facts.params
    if kind == "ip":
        network = ipaddress.ip_network(str(value), strict=False)
        return lambda facts: facts.address is not None and facts.address in network
    if kind in ("before", "after"):
        moment = datetime.fromisoformat(str(value)).timestamp()
        if kind == "before":
            return lambda facts: facts.now < moment
        return lambda facts: facts.now >= moment
    raise ValueError(f"unknown condition type {kind!r}")


def _all(conditions: tuple[Condition, ...]) -> Condition:
    """One predicate for a rule: its condition itself when it has one (most rules), else all of them."""
    if len(conditions) == 1:
        return conditions[0]
    if len(conditions) == 2:
        first, second = conditions
        return lambda facts: first(facts) and second(facts)
    return lambda facts: all(condition(facts) for condition in conditions)


@dataclass(frozen=True, slots=True)
class Rule:
    destination: Destination
    url: str  # as the link states it (what a click records)
    matches: Condition
    needs_place: bool  # a country or city condition: the IP is looked up for this link's clicks only
    reads_click: bool  # an ip, country, city, before or after condition: its answer is this click's alone


def compile_rules(raw: Any, utm: dict[str, str | None]) -> tuple[Rule, ...]:
    if not isinstance(raw, list):
        return ()
    rules = []
    for item in raw:
        conditions = item.get("conditions") or []
        rules.append(
            Rule(
                destination=Destination.build(item["url"], utm),
                url=str(item["url"]),
                matches=_all(tuple(compile_condition(condition) for condition in conditions)),
                needs_place=any(condition.get("type") in ("country", "city") for condition in conditions),
                reads_click=any(condition.get("type") in PER_CLICK for condition in conditions),
            )
        )
    return tuple(rules)


@dataclass(frozen=True, slots=True)
class Variants:
    """An A/B test: destinations with weights summing to 100, picked by a stable hash of visitor and link."""

    destinations: tuple[Destination, ...]
    bounds: tuple[int, ...]  # cumulative weights: variant i takes buckets [bounds[i-1], bounds[i])
    ends_at: float | None
    urls: tuple[str, ...] = ()  # as the link states them (what a click records)
    seed: int = 0  # CRC-32 of "<link id>\0": `pick_for` goes on from it
    table: tuple[int, ...] = ()  # bucket (0–99) → variant

    def pick_for(self, ip: str | None, agent: AgentCrc) -> int:
        """`pick(link_id, ip, user agent)` for the link the variants were compiled for, with the user agent's
        part of the CRC computed once per user agent (`agent_crc`): the same variant, without hashing the user
        agent again on every click. CRC-32 of "<link>\\0<ip>" goes on from the link's part (`seed`); the
        user agent's is joined to it by linearity: crc(A‖B) = shift_len(B)(crc(A)) ⊕ crc(B), the shift a
        GF(2)-linear map applied byte by byte from four tables."""
        crc = zlib.crc32(ip.encode() if ip is not None else b"None", self.seed)  # an address is ASCII
        own, (t0, t1, t2, t3) = agent
        return self.table[(own ^ t0[crc & 255] ^ t1[(crc >> 8) & 255] ^ t2[(crc >> 16) & 255] ^ t3[crc >> 24]) % 100]

    def pick(self, link_id: str, ip: str | None, user_agent: str) -> int:
        """The variant (0-based) for this visitor (IP address and user agent): the same one on every click,
        without a cookie. CRC-32 spreads evenly enough over 100 buckets and costs a fraction of a µs."""
        visitor = f"{link_id}\x00{ip}\x00{user_agent}".encode("utf-8", "surrogateescape")
        bucket = zlib.crc32(visitor) % 100
        for index, bound in enumerate(self.bounds):
            if bucket < bound:
                return index
        return len(self.bounds) - 1


ShiftTables = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]
AgentCrc = tuple[int, ShiftTables]  # crc32 of the user agent (as `pick` encodes it), and its length's shift
MAX_SHIFTS = 512  # user-agent lengths whose shift tables are kept (1 KB of ints each)
_shifts: dict[int, ShiftTables] = {}


def _shift_tables(length: int) -> ShiftTables:
    """The linear map c ↦ crc32(B, c) ⊕ crc32(B, 0) for any B of `length` bytes, as four 256-entry tables (one
    per byte of c): what a CRC computed so far becomes after `length` more bytes, apart from their own part."""
    found = _shifts.get(length)
    if found is not None:
        return found
    zeros = bytes(length)
    empty = zlib.crc32(zeros, 0)
    t0, t1, t2, t3 = (
        tuple(zlib.crc32(zeros, value << (8 * place)) ^ empty for value in range(256)) for place in range(4)
    )
    if len(_shifts) >= MAX_SHIFTS:
        _shifts.clear()
    tables = _shifts[length] = (t0, t1, t2, t3)
    return tables


def agent_crc(agent: bytes) -> AgentCrc:
    """A user agent's part of the variant hash (`Variants.pick_for`): "\\0<user agent>", as `pick` encodes the
    latin-1 text."""
    part = b"\x00" + (agent if agent.isascii() else agent.decode("latin-1").encode("utf-8", "surrogateescape"))
    return zlib.crc32(part, 0), _shift_tables(len(part))


@lru_cache(maxsize=256)
def _bucket_table(bounds: tuple[int, ...]) -> tuple[int, ...]:
    """Bucket (0–99) → variant, shared by every link with the same weights (kept warm in the CPU's caches)."""
    return tuple(
        next((i for i, bound in enumerate(bounds) if bucket < bound), len(bounds) - 1) for bucket in range(100)
    )


def compile_variants(
    raw: Any, ends_at: float | None, utm: dict[str, str | None], *, link_id: str = ""
) -> Variants | None:
    if not isinstance(raw, list) or not raw:
        return None
    cumulative, total = [], 0
    for item in raw:
        total += int(item["weight"])
        cumulative.append(total)
    bounds = tuple(cumulative)
    return Variants(
        destinations=tuple(Destination.build(item["url"], utm) for item in raw),
        bounds=bounds,
        ends_at=ends_at,
        urls=tuple(str(item["url"]) for item in raw),
        seed=zlib.crc32(f"{link_id}\x00".encode("utf-8", "surrogateescape")),
        table=_bucket_table(bounds),
    )
