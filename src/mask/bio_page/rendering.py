"""How a published bio page looks: its HTML (Jinja2, autoescaped), stylesheets and icons, rendered once per
change and cached by the public app (mask.public.bio_pages); the dashboard's preview renders the same way.

Safety is structural: Jinja2 autoescapes every value, so user text only ever lands in element text or in quoted
attributes; buttons point at our own redirect path (built from a validated handle and a generated id), never at
the user's URL. `mailto:` icons (validated to one plain address), the avatar and the Open Graph image (validated
https) are the only user URLs in the markup.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from mask.bio_page import service as bio_page_service
from mask.bio_page import themes
from mask.bio_page.service import BioPageView
from mask.models.bio_page import BioBlock

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"

PLATFORM_LABELS = {
    "x": "X",
    "instagram": "Instagram",
    "tiktok": "TikTok",
    "youtube": "YouTube",
    "linkedin": "LinkedIn",
    "github": "GitHub",
    "facebook": "Facebook",
    "threads": "Threads",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "email": "E-mail",
    "website": "Website",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str


def _load_assets() -> dict[str, Asset]:
    types = {".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
    return {
        path.name: Asset(path.read_bytes(), types[path.suffix]) for path in STATIC_DIR.iterdir() if path.suffix in types
    }


ASSETS = _load_assets()
ASSET_VERSION = hashlib.sha256(b"".join(ASSETS[name].body for name in sorted(ASSETS))).hexdigest()[:12]
ICONS = {
    platform: Markup((STATIC_DIR / "icons" / f"{platform}.svg").read_text().strip())  # noqa: S704 - our files
    for platform in PLATFORM_LABELS
}

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _social(block: BioBlock, handle: str) -> dict[str, Any]:
    platform = block.platform or "website"
    href = block.url if not bio_page_service.is_tracked(block) else bio_page_service.block_path(handle, block.id)
    return {"id": block.id, "href": href, "label": PLATFORM_LABELS[platform], "icon": ICONS[platform]}


def _groups(view: BioPageView) -> list[dict[str, Any]]:
    """The blocks as the template draws them: consecutive social icons share one row; disabled links vanish."""
    handle = view.page.handle
    groups: list[dict[str, Any]] = []
    for block in view.blocks:
        if block.type == "social":
            if groups and groups[-1]["type"] == "socials":
                groups[-1]["blocks"].append(_social(block, handle))
            else:
                groups.append({"type": "socials", "blocks": [_social(block, handle)]})
        elif block.type == "link":
            if block.enabled:
                groups.append(
                    {
                        "type": "link",
                        "id": block.id,
                        "title": block.title,
                        "href": bio_page_service.block_path(handle, block.id),
                    }
                )
        else:
            groups.append({"type": block.type, "id": block.id, "text": block.text})
    return groups


def render_page(view: BioPageView) -> str:
    """The page's HTML."""
    page = view.page
    name = page.title if page.title and page.title.strip() else f"@{page.handle}"
    theme = themes.resolve(page.theme)
    letters = [char for char in (page.title or page.handle) if char.isalnum()]
    return templates.get_template("page.html").render(
        lang="en",
        page=page,
        name=name,
        monogram=letters[0] if letters else "@",
        seo_title=page.seo_title or name,
        seo_description=page.seo_description or page.description,
        og_image=page.og_image_url or page.avatar_url,
        canonical_url=bio_page_service.public_url(page.domain, page.handle),
        groups=_groups(view),
        theme_key=theme.key,
        asset_version=ASSET_VERSION,
    )


NOT_FOUND_HTML = templates.get_template("not_found.html").render(
    lang="en",
    theme_key=themes.PRESETS[themes.DEFAULT_PRESET].key,
    asset_version=ASSET_VERSION,
)


@dataclass(frozen=True)
class PublishedPage:
    """What serving a page and its redirects needs, cached per worker: the HTML, rendered once."""

    workspace_id: str
    page_id: str
    html: bytes
    targets: dict[str, str]  # block id → destination, for the blocks the tracked redirect serves


def snapshot(view: BioPageView) -> PublishedPage:
    return PublishedPage(
        workspace_id=view.page.workspace_id,
        page_id=view.page.id,
        html=render_page(view).encode(),
        targets={
            block.id: block.url
            for block in view.blocks
            if block.url and block.enabled and bio_page_service.is_tracked(block)
        },
    )


NOT_FOUND_HTML = templates.get_template("not_found.html").render(
    lang="en",
    theme_key=themes.PRESETS[themes.DEFAULT_PRESET].key,
    asset_version=ASSET_VERSION,
)
