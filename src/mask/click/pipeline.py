"""A process's click machinery, as the composition root (mask.bootstrap) builds it."""

from __future__ import annotations

from dataclasses import dataclass

from mask.click.enrichment import Enricher
from mask.click.inbox import InboxProcessor
from mask.click.service import ClickListener
from mask.click.stream import ClickStreamConsumer
from mask.click.tracker import ClickTracker
from mask.click.writer import ClickWriter


@dataclass
class ClickPipeline:
    """From the handler to the database: the tracker handlers hand clicks to, the buffer writer that appends them to
    the inbox, and the background services that enrich and store them (the inbox processor; with Redis, the
    stream consumer), running `listeners` in each batch's transaction."""

    tracker: ClickTracker
    writer: ClickWriter
    processor: InboxProcessor
    consumer: ClickStreamConsumer | None
    enricher: Enricher
    listeners: list[ClickListener]
