"""The world map of clicks by country: an inline SVG (no third-party request), each country shaded by its clicks.

The outline is flekschas/simple-world-map (CC BY-SA 3.0, after Al MacDonald's "World map - low resolution" on
Wikimedia Commons; maps/LICENSE.txt), whose shapes carry ISO 3166-1 alpha-2 codes as ids. The ids become
`data-country` attributes (two-letter ids would clash with the page's own), and a shaded country gets a class
(`map-1` … `map-5`, on a logarithmic scale: one big country must not wash out the rest) and a `<title>`, which
browsers show on hover. The dashboard's CSP allows no inline style: shading is by class, coloured in app.css.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

from markupsafe import Markup, escape

SHADES = 5
_SHAPE = re.compile(r'<(path|g) id="([a-z_]+)"([^>]*?)(/?)>')


@cache
def _outline() -> str:
    svg = (Path(__file__).parent / "maps" / "world-map.svg").read_text(encoding="utf-8")
    # Scales with its card: the viewBox stays, the fixed size goes.
    return re.sub(r'<svg ([^>]*?)width="[^"]*" height="[^"]*"', r"<svg \1", svg, count=1)


def shade(clicks: int, top: int) -> int:
    """1 … SHADES for 1 … `top` clicks, logarithmically; 0 for none."""
    if clicks <= 0 or top <= 0:
        return 0
    if top == 1:
        return SHADES
    return 1 + min(SHADES - 1, int((SHADES - 1) * math.log(clicks) / math.log(top) + 0.5))


def shaded_map(counts: Mapping[str, int], describe: Callable[[str, int], str], label: str) -> Markup:
    """The map with each country of `counts` (ISO alpha-2, upper case) shaded; `describe` titles a country."""
    top = max(counts.values(), default=0)

    def replace(match: re.Match[str]) -> str:
        tag, shape_id, rest, closing = match.groups()
        code = shape_id.upper()
        clicks = counts.get(code, 0) if len(shape_id) == 2 else 0
        attributes = f' data-country="{escape(shape_id)}"{rest}'
        if not clicks:
            return f"<{tag}{attributes}{closing}>"
        title = f"<title>{escape(describe(code, clicks))}</title>"
        opening = f'<{tag}{attributes} class="map-{shade(clicks, top)}">'
        return f"{opening}{title}</path>" if closing else f"{opening}{title}"

    svg = _SHAPE.sub(replace, _outline())
    svg = svg.replace("<svg ", f'<svg class="world-map" role="img" aria-label="{escape(label)}" ', 1)
    return Markup(svg)  # noqa: S704 - a vetted file, every value inserted into it escaped
