"""A link's decision settings as the redirect cache holds them (mask.redirect.decision reads them)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from mask.redirect.destination import Destination
from mask.redirect.previews import preview_page
from mask.redirect.rules import Rule, Variants, compile_rules, compile_variants


@dataclass(slots=True)
class Verdict:
    """Where the app redirects this click, and with which status. Built once per rule and variant with the
    policy (never changed afterwards): a click costs no allocation."""

    destination: Destination
    status: int = 302
    password: bool = False  # let through a password (with its cookie)
    rule_index: int | None = None  # the targeting rule that decided, if one did
    variant: int | None = None  # the A/B variant given, if a test runs
    extra_headers: tuple[tuple[bytes, bytes], ...] = ()
    url: str = ""  # the destination as the link states it (its `url`, the rule's or the variant's), recorded
    # What the click records (mask.click.schemas.DECISION_FIELDS), made once: the redirect appends it to the row.
    recorded: tuple[str, int | None, int | None, bool] = field(init=False)
    _passed: Verdict | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.recorded = (self.url or self.destination.location, self.rule_index, self.variant, self.password)

    def let_through(self) -> Verdict:
        """The same verdict for a visitor let through a password (made on first use, then kept)."""
        if self._passed is None:
            self._passed = Verdict(
                self.destination, self.status, True, self.rule_index, self.variant, self.extra_headers, self.url
            )
        return self._passed


@dataclass(slots=True)
class Policy:
    """A link's decision settings, built once per cache fill (mask.redirect.resolver). Only `exhausted` changes:
    set when a reservation finds the limit spent, so later clicks on this worker answer at once (a changed link
    is a new entry, so raising the limit starts afresh)."""

    default: Verdict  # to `url`
    password_hash: str | None = None
    password_version: str = ""  # changes with the password: older cookies stop matching
    starts_at: float | None = None  # Unix time
    max_clicks: int | None = None
    status: int = 302
    exhausted: bool = False
    rules: tuple[Rule, ...] = ()
    variants: Variants | None = None
    needs_place: bool = False  # a country or city rule: this link's clicks look their IP up
    # Rule answers by (user agent, Accept-Language, query) — each b"" unless a rule reads it — when no rule
    # reads the IP, the place or the time (mask.redirect.decision).
    routes: dict[tuple[bytes, bytes, bytes], int] | None = None
    reads_agent: bool = False  # a device, os or browser rule
    reads_language: bool = False
    reads_query: bool = False
    needs_ip: bool = False  # an ip, country or city rule
    # A start time, click limit, password or preview: checked before the destination (Decider._gated).
    gated: bool = False
    rule_verdicts: tuple[Verdict, ...] = ()
    preview: bytes | None = None  # the page link-preview bots get (mask.redirect.previews)
    variant_verdicts: tuple[Verdict, ...] = ()

    @classmethod
    def build(
        cls,
        *,
        password_hash: str | None,
        starts_at: float | None,
        max_clicks: int | None,
        clicks_reserved: int,
        status: int,
        destination: Destination,
        rules: Any = None,
        variants: Any = None,
        test_ends_at: float | None = None,
        utm: dict[str, str | None] | None = None,
        preview: Any = None,
        short_url: str = "",
        url: str = "",
        link_id: str = "",
    ) -> Policy | None:
        """The policy of a link, or None for a link that uses none of it (the fast path)."""
        if (
            password_hash is None
            and starts_at is None
            and max_clicks is None
            and status == 302
            and not rules
            and not variants
            and not preview
        ):
            return None
        compiled = compile_rules(rules, utm or {})
        ab = compile_variants(variants, test_ends_at, utm or {}, link_id=link_id)
        kinds = {condition.get("type") for item in rules or () for condition in item.get("conditions") or ()}
        version = hashlib.sha256(password_hash.encode()).hexdigest()[:32] if password_hash else ""
        return cls(
            password_hash=password_hash,
            password_version=version,
            starts_at=starts_at,
            max_clicks=max_clicks,
            status=status,
            exhausted=max_clicks is not None and clicks_reserved >= max_clicks,
            rules=compiled,
            variants=ab,
            needs_place=any(rule.needs_place for rule in compiled),
            reads_agent=bool(kinds & {"device", "os", "browser"}),
            reads_language="language" in kinds,
            reads_query="query_param" in kinds,
            needs_ip=bool(kinds & {"ip", "country", "city"}),
            gated=password_hash is not None or starts_at is not None or max_clicks is not None or bool(preview),
            routes={} if compiled and not any(rule.reads_click for rule in compiled) else None,
            default=Verdict(destination, status, url=url),
            preview=preview_page(preview, short_url),
            rule_verdicts=tuple(
                Verdict(rule.destination, status, rule_index=n, url=rule.url) for n, rule in enumerate(compiled)
            ),
            variant_verdicts=tuple(Verdict(d, status, variant=n, url=ab.urls[n]) for n, d in enumerate(ab.destinations))
            if ab
            else (),
        )
