"""Bench-only app factory: MASK exactly as `mask serve` builds it, minus the click listeners (analytics
rollups, bio page counters, webhook events), to tell what the redirect path and click storage cost apart from
what the listeners add inside each click batch."""

from __future__ import annotations

from mask.app import MaskApp
from mask.app import create_app as create_mask_app


def create_app() -> MaskApp:
    app = create_mask_app()
    app.context.click_listeners.clear()  # the writer and the stream consumer hold this very list
    return app
