"""Social previews: link-preview bots (an explicit allow-list) get a small page with the link's Open Graph and
Twitter tags instead of the redirect; search crawlers and people get the redirect, as always (no cloaking: what
a crawler indexes is the destination).

The page is built once per cache fill (mask.redirect.policy) and holds only what the link's owner wrote for the
preview: never the destination.
"""

from __future__ import annotations

from html import escape
from typing import Any

from mask.click.traffic import is_preview_bot

__all__ = ["is_preview_bot", "preview_page"]


def preview_page(preview: Any, short_url: str) -> bytes | None:
    """The HTML a preview bot gets, or None when the link has no preview."""
    if not isinstance(preview, dict) or not preview.get("title"):
        return None
    title = escape(str(preview["title"]))
    description = escape(str(preview.get("description") or ""))
    image = preview.get("image_url")
    tags = [
        f'<meta property="og:title" content="{title}">',
        f'<meta property="og:url" content="{escape(short_url)}">',
        '<meta property="og:type" content="website">',
        f'<meta name="twitter:card" content="{"summary_large_image" if image else "summary"}">',
        f'<meta name="twitter:title" content="{title}">',
    ]
    if description:
        tags += [
            f'<meta property="og:description" content="{description}">',
            f'<meta name="twitter:description" content="{description}">',
            f'<meta name="description" content="{description}">',
        ]
    if image:
        tags += [
            f'<meta property="og:image" content="{escape(str(image))}">',
            f'<meta name="twitter:image" content="{escape(str(image))}">',
        ]
    head = "\n".join(tags)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="robots" content="noindex">
{head}
</head><body><h1>{title}</h1><p>{description}</p></body></html>
""".encode()
