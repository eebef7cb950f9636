"""What a hit was, and why it is (or is not) counted: the traffic type and, for a bot, its short name.

- `human`: a person's browser. The only type counted in `clicks` (a link's counter, analytics by default).
- `bot`: a crawler, a script, a monitoring probe (the CrawlerDetect list and ua-parser's spiders, as
  `mask.click.enrichment` decides), with the crawler's name.
- `preview`: a link-preview fetcher (Slackbot, Twitterbot, WhatsApp, …): someone pasted the link, nobody
  followed it yet. Told apart by an explicit list (PREVIEW_BOTS), the same one the redirect serves social
  previews to.
- `prefetch`: a browser loading the page speculatively (`Sec-Purpose: prefetch`, `Purpose: prefetch`,
  `X-Moz: prefetch`): the visitor may never open it. Recorded with the request's purpose by the public handler.

Orphan hits (mask.click.schemas.ORPHAN_TYPES: an unknown slug, a domain's root, an expired link) are a separate
question, `kind`, and carry a traffic type like any hit.
"""

from __future__ import annotations

import re

TRAFFIC_TYPES = ("human", "bot", "preview", "prefetch")
HUMAN, BOT, PREVIEW, PREFETCH = TRAFFIC_TYPES
MAX_BOT_NAME = 32

# Substrings of the user agents of link unfurlers (lower-case), each its bot's name. Search engines are not here
# on purpose: they index the destination, and count as `bot`.
PREVIEW_BOTS = (
    "facebookexternalhit",
    "facebot",
    "twitterbot",
    "slackbot",
    "slack-imgproxy",
    "discordbot",
    "whatsapp",
    "linkedinbot",
    "telegrambot",
    "skypeuripreview",
    "pinterestbot",
    "redditbot",
    "embedly",
    "iframely",
    "vkshare",
    "mastodon",
    "bluesky",
    "viber",
)

_NOT_NAME = re.compile(r"[^a-z0-9._-]+")


def preview_bot_name(user_agent: str) -> str | None:
    """The name of the link-preview bot sending this user agent, or None when it is not one."""
    lowered = user_agent.lower()
    return next((token for token in PREVIEW_BOTS if token in lowered), None)


def is_preview_bot(user_agent: str) -> bool:
    return preview_bot_name(user_agent) is not None


def bot_name(match: str | None) -> str | None:
    """A short normalised name from what identified the bot (`Googlebot/2.1` → `googlebot`, `python-requests`
    stays, `Python Requests` → `python-requests`): lower-case, the version after a slash dropped, spaces as `-`,
    at most MAX_BOT_NAME characters."""
    if not match:
        return None
    name = "-".join(match.strip().lower().split("/", 1)[0].split())
    name = _NOT_NAME.sub("", name).strip("._-")
    return name[:MAX_BOT_NAME] or None
