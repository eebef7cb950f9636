"""Messages for people: the services' messages are written for API callers (field names in backticks, `link(s)`,
HTTP verbs); the dashboard shows them in plain words. The API's own messages are left as they are."""

from __future__ import annotations

import re
from collections.abc import Callable

# A field's name in a message, as a person calls it on the form.
FIELD_WORDS = {
    "text_color": "the text colour",
    "button_color": "the button colour",
    "button_text_color": "the button text colour",
    "background": "the background",
    "background_end": "the background's second colour",
    "handle": "the handle",
    "url": "the URL",
    "slug": "the slug",
    "domain": "the domain",
    "title": "the title",
    "name": "the name",
    "email": "the e-mail address",
    "password": "the password",
    "events": "the events",
    "scopes": "the scopes",
    "role": "the role",
    "description": "the description",
    "avatar_url": "the avatar image URL",
    "og_image_url": "the share image URL",
    "expires_at": "the expiry",
}


def _plural(match: re.Match[str]) -> str:
    count, noun = int(match.group(1)), match.group(2)
    return f"{count:,} {noun if count == 1 else noun + 's'}"


def _contrast(match: re.Match[str]) -> str:
    name, ratio, against, needed = match.groups()
    return (
        f"{_field(name, capital=True)} is too close to {_field(against)} to read easily: its contrast is {ratio}:1, "
        f"and at least {needed}:1 is needed. Choose a darker or lighter colour, or leave it empty and a readable "
        "one is chosen for you."
    )


def _field(name: str, *, capital: bool = False) -> str:
    words = FIELD_WORDS.get(name, name.replace("_", " "))
    return words[:1].upper() + words[1:] if capital else words


def _quoted(match: re.Match[str]) -> str:
    inner = match.group(1)
    if inner in FIELD_WORDS:
        return _field(inner)
    return f"“{inner}”"


# In order: whole sentences first, then pieces, then any backticks left.
RULES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (
        re.compile(
            r"`(\w+)` has a contrast of ([\d.]+):1 against (?:the )?`?(\w+)`?; at least ([\d.]+):1 is needed "
            r"to be readable \(WCAG AA\)\. Leave it out to have a readable colour chosen\."
        ),
        _contrast,
    ),
    (re.compile(r"`handle` cannot be cleared; send a new one instead\."), "The handle cannot be empty."),
    (re.compile(r"enable it \(PATCH `enabled: true`\)"), "turn on “Enabled” in its settings below"),
    (re.compile(r"\bleave `id` out\b"), "add it as a new block"),
    (re.compile(r"\b(\d+) (link|bio page|page|click|tag|member|key)\(s\)"), _plural),
    (re.compile(r"^String should have at most (\d+) characters?$"), r"Use at most \1 characters."),
    (re.compile(r"^String should have at least 1 character$"), "Fill this in."),
    (re.compile(r"^String should have at least (\d+) characters$"), r"Use at least \1 characters."),
    (re.compile(r"^Field required$"), "Fill this in."),
    (re.compile(r"`([^`]+)`"), _quoted),
]


def humanize(message: str) -> str:
    """`message` in plain words: `text_color` → “the text colour”, `link(s)` → “1 link” / “2 links”, no backticks,
    no HTTP verbs. A message with nothing of the API in it comes back unchanged."""
    for pattern, replacement in RULES:
        message = pattern.sub(replacement, message)
    return message[:1].upper() + message[1:]


# What a form calls a field in an error summary's link, where it is not its name in plain words.
FIELD_LABELS = {
    "url": "URL",
    "avatar_url": "Avatar image URL",
    "og_image_url": "Share image URL",
    "seo_title": "SEO title",
    "seo_description": "SEO description",
    "theme_background": "Background colour",
    "theme_text_color": "Text colour",
    "theme_button_color": "Button colour",
    "theme_button_text_color": "Button text colour",
    "current_password": "Current password",
    "new_password": "New password",
    "default_domain": "Default domain",
    "expires_at": "Expires",
    "email": "E-mail address",
}


def field_label(name: str) -> str:
    """The label of the form field `name` (`theme_text_color` → “Text colour”)."""
    return FIELD_LABELS.get(name) or name.replace("_", " ").capitalize()
