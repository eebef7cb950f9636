from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from mask.kit.time import isoformat_z


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

    @property
    def target_id(self) -> str:
        """What uniqueness and counters are about: the link, else the bio page."""
        target = self.link_id or self.bio_page_id
        assert target is not None, "a click belongs to a link or a bio page"
        return target

    def public_dict(self) -> dict[str, Any]:
        """The click as webhooks and exports show it (the visitor hash stays internal)."""
        data = asdict(self)
        data.pop("visitor_hash")
        data["clicked_at"] = isoformat_z(self.clicked_at)
        return data
