from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from mask.kit.ids import new_click_ids
from mask.kit.time import isoformat_z

# What led to a click (clicks.trigger): the short URL itself, a QR code scan, a bio page.
TRIGGERS = ("link", "qr", "bio")


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
    is_bot: bool = False
    is_unique: bool = False  # decided by record_batch
    trigger: str = "link"  # TRIGGERS
    # --- what the decision engine decided (mask.redirect.decision): links with a policy only
    destination_url: str | None = None  # where the click was sent; None: the link's own URL (a plain link)
    rule_index: int | None = None  # the targeting rule that matched (0-based)
    variant: int | None = None  # the A/B variant given (0-based)
    passed_password: bool = False  # let through a password

    @property
    def target_id(self) -> str:
        """What uniqueness is about: the link; the bio block clicked; or, for a page view, the bio page.

        A view and a block click of the same page are separate targets, so viewing a page never makes the
        visitor's first click on a block of it non-unique.
        """
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
        ) + (self.decision() if self.destination_url is not None or self.passed_password else ())

    def decision(self) -> ClickRow:
        """The trailing DECISION_FIELDS of a row."""
        return (self.destination_url, self.rule_index, self.variant, self.passed_password)

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> RawClick:
        """Inverse of `to_row` (also from a decoded JSON list); raises ValueError on anything else. Rows
        written by older versions are shorter: without the trailing `trigger` a row is a `link` click; without
        the DECISION_FIELDS, nothing was decided."""
        if not isinstance(row, list | tuple) or len(row) not in ROW_LENGTHS:
            raise ValueError("not a click row")
        decision = row[BASE_LENGTH + 1 :]
        if decision and not _is_decision(decision):
            raise ValueError("not a click row")
        if len(row) > BASE_LENGTH:
            trigger = row[BASE_LENGTH]
            if trigger not in TRIGGERS:
                raise ValueError("not a click row")
        else:
            trigger = "link"
        row = row[:BASE_LENGTH]
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
        if decision:
            click.destination_url, click.rule_index, click.variant, click.passed_password = decision
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
    *DECISION_FIELDS,
)
BASE_LENGTH = RAW_FIELDS.index("trigger")  # a row of versions before `trigger`
ROW_LENGTHS = (BASE_LENGTH, BASE_LENGTH + 1, len(RAW_FIELDS))  # without trigger, with it, and a decision


def _is_decision(values: Sequence[Any]) -> bool:
    destination_url, rule_index, variant, passed_password = values
    return (
        (destination_url is None or isinstance(destination_url, str))
        and (rule_index is None or (isinstance(rule_index, int) and not isinstance(rule_index, bool)))
        and (variant is None or (isinstance(variant, int) and not isinstance(variant, bool)))
        and isinstance(passed_password, bool)
    )


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
    what the engine decided (DECISION_FIELDS), empty for a plain link."""
    return ("", at, workspace_id, domain, link_id, None, None, ip, user_agent, referrer, *utm, trigger, *decision)


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
