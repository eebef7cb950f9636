"""A process's click machinery, as the composition root (mask.bootstrap) builds it."""

from __future__ import annotations

from dataclasses import dataclass

from mask.click.enrichment import Enricher
from mask.click.journal import ClickJournal
from mask.click.service import ClickListener
from mask.click.shipper import JournalShipper
from mask.click.tracker import ClickTracker


@dataclass
class ClickPipeline:
    """From the handler to the database: the tracker handlers hand clicks to, the worker's journal it appends
    them to, and the background service that ships the host's journal to the database (the shipper), running
    `listeners` in each batch's transaction."""

    tracker: ClickTracker
    journal: ClickJournal
    shipper: JournalShipper
    enricher: Enricher
    listeners: list[ClickListener]
