"""Words that can never be a slug or a bio-page handle: MASK's own paths and names that invite confusion.

One list, compared case-insensitively, so that `/App` can never shadow the dashboard on any short domain.
"""

from __future__ import annotations

RESERVED_WORDS: frozenset[str] = frozenset(
    {
        "v1",
        "v2",
        "api",
        "app",
        "apps",
        "static",
        "assets",
        "health",
        "healthz",
        "ready",
        "readyz",
        "metrics",
        "docs",
        "redoc",
        "openapi",
        "openapi.json",
        "admin",
        "dashboard",
        "login",
        "logout",
        "signin",
        "signout",
        "signup",
        "register",
        "auth",
        "oauth",
        "settings",
        "account",
        "accounts",
        "billing",
        "pricing",
        "help",
        "support",
        "status",
        "about",
        "terms",
        "privacy",
        "legal",
        "security",
        "www",
        "mail",
        "report",
        "favicon.ico",
        "robots.txt",
        "sitemap.xml",
        ".well-known",
        "well-known",
        "webhooks",
        "webhook",
        "links",
        "link",
        "bio",
        "qr",
        "s",
        "u",
        "null",
        "undefined",
        "index",
        "home",
        "mask",
        "root",
        "system",
    }
)


def is_reserved(word: str) -> bool:
    return word.lower() in RESERVED_WORDS
