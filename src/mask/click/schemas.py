from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from mask.kit.ids import new_click_ids
from mask.kit.time import isoformat_z

# What led to a click (clicks.trigger): the short URL itself, a QR code scan, a bio page.
TRIGGERS = ("link", "qr", "bio")
# What an orphan hit found (clicks.orphan_type): no link with that slug, the domain's root, an expired link, a link
# whose click limit is spent (its own type: the owner can raise the limit; an expired link needs a new date).
OrphanType = Literal["unknown_slug", "domain_root", "expired_link", "limit_reached"]
ORPHAN_TYPES: tuple[str, ...] = get_args(OrphanType)
MAX_PATH = 500  # an orphan hit's path is kept to its first 500 characters


@dataclass(slots=True)
class EnrichedClick:
    """A click after enrichment, ready to store. Built by the click pipeline, consumed by `record_batch`
    and by click listeners (analytics rollups, webhook events). No raw IP, no raw user agent."""

    click_id: str
    clicked_at: datetime
    workspace_id: str
    domain: str
    visitor_hash: str
    link_id: str | None = None
    bio_page_id: str | None = None
    bio_block_id: str | None = None
    country: str | None = None
    city: str | None = None
    device: str | None = None
    browser: str | None = None
    os: str | None = None
    referrer: str | None = None
    referrer_url: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    is_bot: bool = False  # every traffic type but `human`
    is_unique: bool = False  # decided by record_batch
    trigger: str = "link"  # TRIGGERS
    # --- traffic types and orphan hits (issue 26): what the hit was and, for an orphan, what it found
    traffic_type: str = "human"  # mask.click.traffic.TRAFFIC_TYPES
    bot_name: str | None = None  # bot and preview: the crawler's short name when known
    orphan_type: str | None = None  # ORPHAN_TYPES; None for a click on a link or a bio page
    path: str | None = None  # an orphan hit's path ("/" for the root)

    # --- what the decision engine decided (mask.redirect.decision): links with a policy only
    destination_url: str | None = None  # where the click was sent; None: the link's own URL (a plain link)
    rule_index: int | None = None  # the targeting rule that matched (0-based)
    variant: int | None = None  # the A/B variant given (0-based)
    passed_password: bool = False  # let through a password

    def __post_init__(self) -> None:
        # One fact, two fields: a click built with only one of them (older code, tests, loads) agrees with itself.
        if self.traffic_type != "human":
            self.is_bot = True
        elif self.is_bot:
            self.traffic_type = "bot"

    @property
    def target_id(self) -> str:
        """What uniqueness is about: the link; the bio block clicked; or, for a page view, the bio page; for an
        orphan hit, its domain and path (a 32-character digest: never the link an expired hit names).

        A view and a block click of the same page are separate targets, so viewing a page never makes the
        visitor's first click on a block of it non-unique.
        """
        if self.orphan_type is not None:
            digest = hashlib.blake2b(f"{self.domain}{self.path or ''}".encode(), digest_size=15).hexdigest()
            return "o_" + digest
        target = self.link_id or self.bio_block_id or self.bio_page_id
        assert target is not None, "a click belongs to a link or a bio page"
        return target

    def public_dict(self) -> dict[str, Any]:
        """The click as webhooks and exports show it (the visitor hash stays internal)."""
        data = asdict(self)
        data.pop("visitor_hash")
        data["clicked_at"] = isoformat_z(self.clicked_at)
        return data


UTM_NAMES = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


@dataclass(slots=True)
class RawClick:
    """A click as a public handler saw it, before enrichment: what it hands to the click tracker.

    It belongs to a link (`link_id`) or to a bio page (`bio_page_id`, and `bio_block_id` for the block
    clicked). A handler leaves `click_id` empty: the shipper derives each click's id from its place in the
    click journal (`mask.click.journal.decode_payload`), the same at every read, so a re-delivery is stored
    once. `ip` is the client
    address; it lives only in memory and the worker's journal file until the click is stored, and never reaches
    `clicks`.
    """

    click_id: str
    at: float  # Unix time, seconds
    workspace_id: str
    domain: str
    link_id: str | None = None
    bio_page_id: str | None = None
    bio_block_id: str | None = None
    ip: str | None = None
    user_agent: str = ""
    referrer: str = ""
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    trigger: str = "link"  # TRIGGERS; absent from rows written before it existed
    # --- optional trailing row fields (ROW_TAIL): absent from rows that do not need them, and from older rows
    purpose: str = ""  # "prefetch" when the request said it was a speculative load
    orphan_type: str | None = None  # ORPHAN_TYPES: a hit that found no link to count (kind `orphan`)
    path: str | None = None  # an orphan hit's path
    # --- what the decision engine decided (DECISION_FIELDS, trailing): only rows of links with a policy carry
    # them (mask.redirect.policy.Verdict.recorded); a plain link's row, and rows written before, end before them.
    destination_url: str | None = None
    rule_index: int | None = None
    variant: int | None = None
    passed_password: bool = False

    def to_fields(self) -> dict[str, str]:
        """Flat string fields, as Redis stream entries of older versions held them (empty values left out)."""
        fields = {
            "click_id": self.click_id,
            "at": repr(self.at),
            "workspace_id": self.workspace_id,
            "domain": self.domain,
        }
        for name in ("link_id", "bio_page_id", "bio_block_id", "ip", "user_agent", "referrer", *UTM_NAMES):
            value = getattr(self, name)
            if value:
                fields[name] = value
        if self.trigger != "link":
            fields["trigger"] = self.trigger
        for name in ("purpose", "orphan_type", "path"):
            value = getattr(self, name)
            if value:
                fields[name] = value
        return fields

    def to_row(self) -> ClickRow:
        """Positional form (RAW_FIELDS order), for journal records (and older versions' hand-overs): cheaper to encode
        than named fields, and a plain tuple of strings and numbers, which the garbage collector stops
        tracking, so thousands of buffered clicks do not make its full collections longer."""
        return (
            self.click_id,
            self.at,
            self.workspace_id,
            self.domain,
            self.link_id,
            self.bio_page_id,
            self.bio_block_id,
            self.ip,
            self.user_agent,
            self.referrer,
            self.utm_source,
            self.utm_medium,
            self.utm_campaign,
            self.utm_term,
            self.utm_content,
            self.trigger,
            *self._tail(),
        )

    def _tail(self) -> tuple[Any, ...]:
        """The optional trailing fields, as far as the last one that differs from its default (none for a
        plain click: rows stay as short as before)."""
        values = tuple(getattr(self, name) for name in ROW_TAIL)
        if values == TAIL_DEFAULTS:
            return ()
        end = max(i for i, (value, default) in enumerate(zip(values, TAIL_DEFAULTS, strict=True)) if value != default)
        return values[: end + 1]

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> RawClick:
        """Inverse of `to_row` (also from a decoded JSON list); raises ValueError on anything else. A row
        without the trailing `trigger` (written before it existed) is a `link` click; any trailing ROW_TAIL
        field it lacks has its default (rows of older versions, and plain clicks, which leave them out)."""
        if not isinstance(row, list | tuple) or not len(RAW_FIELDS) - 1 <= len(row) <= len(RAW_FIELDS) + len(ROW_TAIL):
            raise ValueError("not a click row")
        tail = list(row[len(RAW_FIELDS) :])
        row = row[: len(RAW_FIELDS)]
        if len(row) == len(RAW_FIELDS):
            *row, trigger = row
            if trigger not in TRIGGERS:
                raise ValueError("not a click row")
        else:
            trigger = "link"
        extra = dict(zip(ROW_TAIL, TAIL_DEFAULTS, strict=True))
        for (name, check), value in zip(ROW_TAIL.items(), tail, strict=False):
            if not check(value):
                raise ValueError("not a click row")
            extra[name] = value
        click_id, at, workspace_id, domain, *optional = row
        user_agent, referrer = optional[4], optional[5]
        if not (
            isinstance(click_id, str)
            and click_id
            and isinstance(at, int | float)
            and isinstance(workspace_id, str)
            and isinstance(domain, str)
            and isinstance(user_agent, str)
            and isinstance(referrer, str)
            and all(value is None or isinstance(value, str) for value in optional)
        ):
            raise ValueError("not a click row")
        click = cls(*row)
        click.trigger = trigger
        for name, value in extra.items():
            setattr(click, name, value)
        return click

    @classmethod
    def from_fields(cls, fields: dict[bytes, bytes] | dict[str, str]) -> RawClick:
        """Inverse of `to_fields`; raises KeyError/ValueError on an entry that is not a click."""
        data = {
            (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in fields.items()
        }
        return cls(
            click_id=data["click_id"],
            at=float(data["at"]),
            workspace_id=data["workspace_id"],
            domain=data["domain"],
            link_id=data.get("link_id"),
            bio_page_id=data.get("bio_page_id"),
            bio_block_id=data.get("bio_block_id"),
            ip=data.get("ip"),
            user_agent=data.get("user_agent", ""),
            referrer=data.get("referrer", ""),
            utm_source=data.get("utm_source"),
            utm_medium=data.get("utm_medium"),
            utm_campaign=data.get("utm_campaign"),
            utm_term=data.get("utm_term"),
            utm_content=data.get("utm_content"),
            trigger=data.get("trigger", "link") if data.get("trigger") in TRIGGERS else "link",
            purpose=data.get("purpose", ""),
            orphan_type=data.get("orphan_type") if data.get("orphan_type") in ORPHAN_TYPES else None,
            path=data.get("path"),
        )


ClickRow = tuple[Any, ...]  # RawClick.to_row()
# What the decision engine decided, at the end of the rows of links with a policy (issue 21).
DECISION_FIELDS = ("destination_url", "rule_index", "variant", "passed_password")
RAW_FIELDS = (
    "click_id",
    "at",
    "workspace_id",
    "domain",
    "link_id",
    "bio_page_id",
    "bio_block_id",
    "ip",
    "user_agent",
    "referrer",
    *UTM_NAMES,
    "trigger",
)
# Optional fields after RAW_FIELDS, in order, each with what a valid value is; a row carries them only as far
# as it needs (`RawClick._tail`), so plain clicks and the rows of older versions leave them out. The traffic
# fields (issue 26) come first, then what the decision engine decided (issue 21, DECISION_FIELDS): a plain link's
# row carries neither.
ROW_TAIL: dict[str, Any] = {
    "purpose": lambda value: value in ("", "prefetch"),
    "orphan_type": lambda value: value is None or value in ORPHAN_TYPES,
    "path": lambda value: value is None or isinstance(value, str),
    "destination_url": lambda value: value is None or isinstance(value, str),
    "rule_index": lambda value: value is None or (isinstance(value, int) and not isinstance(value, bool)),
    "variant": lambda value: value is None or (isinstance(value, int) and not isinstance(value, bool)),
    "passed_password": lambda value: isinstance(value, bool),
}
TAIL_DEFAULTS: tuple[Any, ...] = ("", None, None, None, None, None, False)
TRAFFIC_TAIL_DEFAULTS = TAIL_DEFAULTS[:3]  # what stands before the decision fields in a link's row


def link_click_row(
    *,
    at: float,
    workspace_id: str,
    domain: str,
    link_id: str,
    ip: str | None,
    user_agent: str,
    referrer: str,
    utm: Sequence[str | None],
    trigger: str = "link",
    decision: ClickRow = (),
) -> ClickRow:
    """A click on a short link in row form (`RawClick.to_row()`'s layout), as the redirect's hot path hands it
    over: no RawClick built only to be taken apart again. The id is minted later, per batch. `decision` is
    what the engine decided (DECISION_FIELDS), empty for a plain link; it follows the traffic fields' defaults
    (ROW_TAIL's order)."""
    row = ("", at, workspace_id, domain, link_id, None, None, ip, user_agent, referrer, *utm, trigger)
    return (*row, *TRAFFIC_TAIL_DEFAULTS, *decision) if decision else row


def prefetch_row(row: ClickRow) -> ClickRow:
    """A click row marked as a browser's speculative load (`purpose`: prefetch, the first ROW_TAIL field):
    stored, not counted."""
    base = len(RAW_FIELDS)
    return (*row[:base], "prefetch", *row[base + 1 :])


def orphan_row(
    *,
    at: float,
    workspace_id: str,
    domain: str,
    orphan_type: str,
    path: str,
    ip: str | None,
    user_agent: str,
    referrer: str,
    prefetch: bool,
    link_id: str | None = None,
) -> ClickRow:
    """A hit that found no link to count (ORPHAN_TYPES), in row form; `link_id` names an expired link."""
    purpose = "prefetch" if prefetch else ""
    return (
        ("", at, workspace_id, domain, link_id, None, None, ip, user_agent, referrer)
        + (None,) * len(UTM_NAMES)
        + ("link", purpose, orphan_type, path[:MAX_PATH])
    )


def mint_click_ids(clicks: Sequence[RawClick]) -> None:
    """Give every click of a batch that has none its id (kept on the object: a retry re-sends the same ids)."""
    missing = [click for click in clicks if not click.click_id]
    for click, click_id in zip(missing, new_click_ids(len(missing)), strict=True):
        click.click_id = click_id


def with_click_ids(rows: list[ClickRow]) -> list[ClickRow]:
    """The rows of a batch, each with a click id: minted for the batch where missing."""
    missing = sum(1 for row in rows if not row[0])
    if not missing:
        return rows
    ids = iter(new_click_ids(missing))
    return [row if row[0] else (next(ids), *row[1:]) for row in rows]
