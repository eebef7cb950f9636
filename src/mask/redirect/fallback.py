"""What a short domain answers when the path is not one of its links: the root, `robots.txt`, the app
association files, and unknown slugs (the domain's `not_found_url`, else the 404 page).

Only reached after the link lookup found nothing, so none of it costs a redirect anything.
"""

from __future__ import annotations

from starlette.types import Send

from mask.public.domains import DomainState
from mask.redirect.pages import NOT_FOUND, Page, wants_json

FILE_CACHE = (b"cache-control", b"public, max-age=300")
TEXT = b"text/plain; charset=utf-8"
JSON = b"application/json"
AASA_PATH = ".well-known/apple-app-site-association"
ASSET_LINKS_PATH = ".well-known/assetlinks.json"


# Paths clients fetch by themselves, never a visitor's hit: not recorded as orphans.
NOT_ORPHANS = frozenset({"robots.txt", "favicon.ico", "apple-touch-icon.png", "apple-touch-icon-precomposed.png"})


def is_orphan(path: str) -> bool:
    """Whether a hit on `path` (without its leading slash) that found no link is recorded as an orphan."""
    return path not in NOT_ORPHANS and not path.startswith(".well-known/")


async def redirect(send: Send, state: DomainState, location: str) -> None:
    headers = ((b"location", location.encode("latin-1")), *state.redirect_tail)
    await send({"type": "http.response.start", "status": 302, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def _file(send: Send, body: bytes, content_type: bytes, *, head: bool) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), FILE_CACHE]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def page(send: Send, page: Page, accept: bytes, *, head: bool, noindex: bool = True) -> None:
    as_json = wants_json(accept)
    body = page.json if as_json else page.html
    headers = [
        (b"content-type", b"application/json" if as_json else b"text/html; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"private, no-store, max-age=0"),
    ]
    if noindex:
        headers.append((b"x-robots-tag", b"noindex"))
    await send({"type": "http.response.start", "status": page.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def answer(send: Send, state: DomainState, path: str, accept: bytes, *, head: bool) -> None:
    """The answer for `path` (without its leading slash) when no link of the domain has it."""
    if path == "" and state.root_url is not None:
        await redirect(send, state, state.root_url)
    elif path == "robots.txt":
        await _file(send, state.robots_txt, TEXT, head=head)
    elif path == AASA_PATH and state.apple_app_site_association is not None:
        await _file(send, state.apple_app_site_association, JSON, head=head)
    elif path == ASSET_LINKS_PATH and state.asset_links is not None:
        await _file(send, state.asset_links, JSON, head=head)
    elif state.not_found_url is not None:
        await redirect(send, state, state.not_found_url)
    else:
        await page(send, NOT_FOUND, accept, head=head, noindex=state.noindex)
