"""Where the browser tests save their screenshots: the directory in MASK_SCREENSHOTS, or
test-artifacts/screenshots/ (gitignored) in the checkout; CI keeps it as an artifact.

    from tests.browser.screenshots import screenshot
    screenshot(page, "bio-editor-phone")          # a full-page PNG named after the test's own words
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

DEFAULT = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def screenshots_dir() -> Path:
    """The directory for screenshots (created on first use)."""
    directory = Path(os.environ.get("MASK_SCREENSHOTS") or DEFAULT)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save a PNG of `page` (a Playwright page, sync or async API's sync page) as `<name>.png`."""
    safe = re.sub(r"[^\w.-]+", "-", name).strip("-") or "page"
    path = screenshots_dir() / f"{safe}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
