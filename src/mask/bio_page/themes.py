"""Bio page themes: presets, overrides, and the WCAG contrast rule every page keeps.

A stored theme is `{"preset": name, <override>: value, …}` with only the overrides the user set. `resolve`
turns it into the colours a page is drawn with. Text must reach 4.5:1 against its background (WCAG 2.x AA for
normal text): presets are built that way (a unit test computes it), an explicit low-contrast override is refused
(422, `low_contrast`), and a colour the user did not set is chosen so that the pair passes (the preset's own when
it does, otherwise black or white, whichever contrasts more: one of them always reaches 4.5:1).

Colours only ever come from `#rrggbb` values, shapes and fonts from the fixed tables below, so a theme's CSS can
be generated from them without any user text reaching a stylesheet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from mask.kit.errors import FieldError

MIN_CONTRAST = 4.5
HEX_COLOR = re.compile(r"^#[0-9a-f]{6}$")
DARK = "#000000"  # with white, one of the two always reaches 4.5:1 (at worst 4.58:1)
LIGHT = "#ffffff"

# System font stacks only: a page makes no third-party request, so no web fonts.
FONTS: dict[str, str] = {
    "system": 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
    "humanist": 'Seravek, "Gill Sans Nova", Ubuntu, Calibri, "DejaVu Sans", source-sans-pro, sans-serif',
    "rounded": (
        'ui-rounded, "Hiragino Maru Gothic ProN", Quicksand, Comfortaa, Manjari, "Arial Rounded MT", '
        '"Arial Rounded MT Bold", Calibri, source-sans-pro, sans-serif'
    ),
    "serif": 'Charter, "Bitstream Charter", "Sitka Text", Cambria, Georgia, serif',
    "mono": 'ui-monospace, "Cascadia Code", "Source Code Pro", Menlo, Consolas, "DejaVu Sans Mono", monospace',
}
BUTTON_SHAPES: dict[str, str] = {"square": "0", "rounded": "0.75rem", "pill": "999px"}
COLOR_FIELDS = ("background", "text_color", "button_color", "button_text_color")


@dataclass(frozen=True)
class Theme:
    """The colours, shape and font a page is drawn with. `background_end` makes a vertical gradient."""

    background: str
    background_end: str | None
    text_color: str
    button_color: str
    button_text_color: str
    button_border: str
    button_shape: str
    font: str

    @property
    def backgrounds(self) -> tuple[str, ...]:
        return (self.background,) if self.background_end is None else (self.background, self.background_end)

    @property
    def key(self) -> str:
        """The theme as a URL-safe name: its stylesheet lives at /@/theme/<key>.css and never changes."""
        colors = (
            self.background,
            self.background_end or "none",
            self.text_color,
            self.button_color,
            self.button_text_color,
            self.button_border,
        )
        return ".".join([*(color.lstrip("#") for color in colors), self.button_shape, self.font])


PRESETS: dict[str, Theme] = {
    "minimal": Theme(
        background="#ffffff",
        background_end=None,
        text_color="#111827",
        button_color="#111827",
        button_text_color="#ffffff",
        button_border="#111827",
        button_shape="rounded",
        font="system",
    ),
    "midnight": Theme(
        background="#0b1120",
        background_end="#1e1b4b",
        text_color="#f8fafc",
        button_color="#e0e7ff",
        button_text_color="#1e1b4b",
        button_border="#e0e7ff",
        button_shape="pill",
        font="system",
    ),
    "sunset": Theme(
        background="#fff1e6",
        background_end="#ffd6e0",
        text_color="#4a1d1f",
        button_color="#b4380b",
        button_text_color="#fff7ed",
        button_border="#b4380b",
        button_shape="pill",
        font="rounded",
    ),
    "forest": Theme(
        background="#f0fdf4",
        background_end="#dcfce7",
        text_color="#14532d",
        button_color="#166534",
        button_text_color="#f0fdf4",
        button_border="#166534",
        button_shape="square",
        font="serif",
    ),
    "ocean": Theme(
        background="#0c4a6e",
        background_end="#164e63",
        text_color="#f0f9ff",
        button_color="#f0f9ff",
        button_text_color="#0c4a6e",
        button_border="#f0f9ff",
        button_shape="rounded",
        font="humanist",
    ),
    "paper": Theme(
        background="#f5f0e8",
        background_end=None,
        text_color="#292524",
        button_color="#fffdf8",
        button_text_color="#292524",
        button_border="#292524",
        button_shape="square",
        font="serif",
    ),
    "neon": Theme(
        background="#09090b",
        background_end=None,
        text_color="#fafafa",
        button_color="#a3e635",
        button_text_color="#09090b",
        button_border="#a3e635",
        button_shape="square",
        font="mono",
    ),
}
DEFAULT_PRESET = "minimal"


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(color: str) -> float:
    """WCAG 2.x relative luminance of an `#rrggbb` colour."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio, from 1 (same) to 21 (black on white)."""
    high, low = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _worst(color: str, backgrounds: tuple[str, ...]) -> float:
    return min(contrast_ratio(color, background) for background in backgrounds)


def _readable(preferred: str, backgrounds: tuple[str, ...]) -> str:
    """`preferred` if it reads well on every background, otherwise dark or light, whichever reads better."""
    if _worst(preferred, backgrounds) >= MIN_CONTRAST:
        return preferred
    return max((DARK, LIGHT), key=lambda candidate: _worst(candidate, backgrounds))


def resolve(stored: dict[str, Any]) -> Theme:
    """The theme a page is drawn with, from its stored preset and overrides."""
    preset = PRESETS.get(stored.get("preset") or DEFAULT_PRESET, PRESETS[DEFAULT_PRESET])
    theme = preset
    if stored.get("background"):
        theme = replace(theme, background=stored["background"], background_end=None)
    if stored.get("button_color"):
        theme = replace(theme, button_color=stored["button_color"], button_border=stored["button_color"])
    if stored.get("button_shape") in BUTTON_SHAPES:
        theme = replace(theme, button_shape=stored["button_shape"])
    if stored.get("font") in FONTS:
        theme = replace(theme, font=stored["font"])
    text_color = stored.get("text_color") or _readable(preset.text_color, theme.backgrounds)
    button_text = stored.get("button_text_color") or _readable(preset.button_text_color, (theme.button_color,))
    theme = replace(theme, text_color=text_color, button_text_color=button_text)
    if theme.button_border == preset.button_border and preset.button_border != preset.button_color:
        # An outlined preset (paper) keeps its outline in the text colour, whatever that became.
        theme = replace(theme, button_border=text_color)
    return theme


def clean(raw: dict[str, Any], errors: list[FieldError], param: str = "theme") -> dict[str, Any]:
    """Validate a theme from the API (`preset` plus optional overrides) into its stored form."""
    stored: dict[str, Any] = {}
    preset = raw.get("preset") or DEFAULT_PRESET
    if preset not in PRESETS:
        errors.append(
            FieldError(
                f"{param}.preset", "unknown_theme", f"Unknown theme `{preset}`; choose one of {', '.join(PRESETS)}."
            )
        )
        return {}
    stored["preset"] = preset
    failed = False
    for name in COLOR_FIELDS:
        value = raw.get(name)
        if value is None:
            continue
        color = _normalize_color(value)
        if color is None:
            errors.append(FieldError(f"{param}.{name}", "invalid_color", "A colour is `#rrggbb` (or `#rgb`)."))
            failed = True
        else:
            stored[name] = color
    if raw.get("button_shape") is not None:
        stored["button_shape"] = raw["button_shape"]
    if raw.get("font") is not None:
        stored["font"] = raw["font"]
    if failed:
        return stored
    theme = resolve(stored)
    if "text_color" in stored:
        ratio = _worst(theme.text_color, theme.backgrounds)
        if ratio < MIN_CONTRAST:
            errors.append(_low_contrast(f"{param}.text_color", "text_color", "the background", ratio))
    if "button_text_color" in stored:
        ratio = contrast_ratio(theme.button_text_color, theme.button_color)
        if ratio < MIN_CONTRAST:
            errors.append(_low_contrast(f"{param}.button_text_color", "button_text_color", "button_color", ratio))
    return stored


def _low_contrast(param: str, name: str, against: str, ratio: float) -> FieldError:
    return FieldError(
        param,
        "low_contrast",
        f"`{name}` has a contrast of {ratio:.2f}:1 against {against}; at least {MIN_CONTRAST}:1 "
        "is needed to be readable (WCAG AA). Leave it out to have a readable colour chosen.",
    )


def _normalize_color(value: str) -> str | None:
    text = value.strip().lower()
    if re.fullmatch(r"#[0-9a-f]{3}", text):
        text = "#" + "".join(char * 2 for char in text[1:])
    return text if HEX_COLOR.match(text) else None


def stylesheet(theme: Theme) -> str:
    """The page's colours, shape and font as CSS custom properties (bio.css draws with them)."""
    background = (
        theme.background
        if theme.background_end is None
        else f"linear-gradient(180deg, {theme.background} 0%, {theme.background_end} 100%)"
    )
    return (
        ":root{"
        f"--bg:{theme.background};--bg-image:{background};--text:{theme.text_color};"
        f"--button:{theme.button_color};--button-text:{theme.button_text_color};"
        f"--button-border:{theme.button_border};--radius:{BUTTON_SHAPES[theme.button_shape]};"
        f"--font:{FONTS[theme.font]}"
        "}\n"
    )


def parse_key(key: str) -> Theme | None:
    """The theme a stylesheet URL names, or None when the name is not one `Theme.key` produces."""
    parts = key.split(".")
    if len(parts) != 8:
        return None
    *colors, shape, font = parts
    if shape not in BUTTON_SHAPES or font not in FONTS:
        return None
    hexes: list[str | None] = []
    for index, color in enumerate(colors):
        if index == 1 and color == "none":
            hexes.append(None)
        elif re.fullmatch(r"[0-9a-f]{6}", color):
            hexes.append("#" + color)
        else:
            return None
    background, background_end, text, button, button_text, border = hexes
    if background is None or text is None or button is None or button_text is None or border is None:
        return None
    return Theme(
        background=background,
        background_end=background_end,
        text_color=text,
        button_color=button,
        button_text_color=button_text,
        button_border=border,
        button_shape=shape,
        font=font,
    )
