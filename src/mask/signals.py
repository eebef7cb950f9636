"""After-commit signals: a lower package announces a change, the composition root decides who reacts.

A service whose change matters outside the database (a cached redirect or bio page to drop, a webhook
dispatcher to wake) emits a signal in its session: `emit(session, LinkChanged(domain, slug))`. Nothing runs
unless and until the session's transaction commits; then every receiver connected to that kind of signal runs,
once per distinct signal per transaction. Receivers are connected in one place, `mask.bootstrap`, so a reader
sees there who reacts to what; a process that connects none (a CLI command) pays nothing.

The receivers travel with the session (its `info`, set by the sessionmaker the composition root builds), not
in a global registry: two apps in one process (tests of two workers) keep their own caches and reactions.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from mask.db import after_commit

logger = logging.getLogger("mask.signals")

SESSION_KEY = "mask.signals"


@dataclass(frozen=True, slots=True)
class LinkChanged:
    """The short link (domain, slug) answers differently now (created, changed, deleted); every slug of the
    domain when `slug` is None (a domain deleted)."""

    domain: str
    slug: str | None = None


@dataclass(frozen=True, slots=True)
class DomainChanged:
    """What the host name `domain` answers changed: verified or not any more, its per-domain settings, removed."""

    domain: str


@dataclass(frozen=True, slots=True)
class BioPageChanged:
    """The public bio page (domain, handle) looks different now, or exists or vanished."""

    domain: str
    handle: str


@dataclass(frozen=True, slots=True)
class WebhooksChanged:
    """A workspace's webhook endpoints changed (subscriptions, enabled, deliveries to retry)."""

    workspace_id: str


@dataclass(frozen=True, slots=True)
class EventsRecorded:
    """Events were written to the outbox: there is something to deliver."""


@dataclass(frozen=True, slots=True)
class MailQueued:
    """Mails were written to the outbox: there is something to send."""


@dataclass(frozen=True, slots=True)
class TitlesWanted:
    """Links were queued for a fetch of their destination's <title> (mask.link.titles)."""


@dataclass(frozen=True, slots=True)
class ImportQueued:
    """An import job was created: there is something for the import runner (mask.imports.runner)."""


Signal = (
    LinkChanged
    | DomainChanged
    | BioPageChanged
    | WebhooksChanged
    | EventsRecorded
    | MailQueued
    | TitlesWanted
    | ImportQueued
)
S = TypeVar(
    "S",
    LinkChanged,
    DomainChanged,
    BioPageChanged,
    WebhooksChanged,
    EventsRecorded,
    MailQueued,
    TitlesWanted,
    ImportQueued,
)
Receiver = Callable[[S], Awaitable[None]]


class Signals:
    """Who reacts to which signal, in the order connected. Built and filled by `mask.bootstrap`."""

    def __init__(self) -> None:
        self._receivers: dict[type[Any], list[Callable[[Any], Awaitable[None]]]] = {}

    def connect(self, kind: type[S], receiver: Receiver[S]) -> None:
        self._receivers.setdefault(kind, []).append(receiver)

    def receivers(self, kind: type[Any]) -> list[Callable[[Any], Awaitable[None]]]:
        return self._receivers.get(kind, [])

    def session_info(self) -> dict[str, Any]:
        """What a sessionmaker puts in each session's `info` so that `emit` finds these receivers."""
        return {SESSION_KEY: self}


def emit(session: AsyncSession, signal: Signal) -> None:
    """Once `session` commits, hand `signal` to its receivers (never after a rollback, once per transaction)."""
    signals: Signals | None = session.info.get(SESSION_KEY)
    if signals is None:
        return
    receivers = signals.receivers(type(signal))
    if not receivers:
        return

    async def deliver() -> None:
        for receiver in receivers:
            try:
                await receiver(signal)
            except Exception:  # the change has committed: a failed reaction must not fail the request
                logger.exception("a receiver of %r failed", signal)

    after_commit(session, deliver, key=signal)
