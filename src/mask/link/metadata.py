"""`GET /v1/links/metadata?url=`: a page's title, description and image, to pre-fill a link's `preview`.

Fetched on the request (a person is waiting in the link editor), through the same SSRF guard, limits and
decoding as page titles (mask.link.titles): every hop's addresses checked, 3 s, at most 1 MB, up to `</head>`.
Open Graph tags first, then Twitter's, then `<title>` and `<meta name="description">`. Only an https image is
offered (previews refuse others).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx

from mask.kit.errors import BadRequest
from mask.kit.net import BlockedDestination
from mask.link.titles import HTML_TYPES, MAX_BYTES, TIMEOUT, USER_AGENT, _decompress, decode_page, title_of

MAX_TITLE, MAX_DESCRIPTION = 200, 500


class MetadataUnavailable(BadRequest):
    """422, not 400: the request was well formed; the page it names could not be read (or may not be)."""

    status_code = 422
    code = "metadata_unavailable"


@dataclass(frozen=True)
class PageMetadata:
    title: str | None
    description: str | None
    image_url: str | None


class _MetaParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta":
            return
        values = {name: value or "" for name, value in attrs}
        key = (values.get("property") or values.get("name") or "").strip().lower()
        if key and "content" in values and key not in self.found:
            self.found[key] = values["content"]


def _clean(value: str | None, limit: int) -> str | None:
    if not value:
        return None
    text = " ".join("".join(char for char in value if char.isprintable() or char.isspace()).split())
    return text[:limit] or None


def metadata_of(page: str, url: str) -> PageMetadata:
    head = page[: page.lower().find("</head")] if "</head" in page.lower() else page
    parser = _MetaParser()
    parser.feed(head)
    parser.close()
    meta = parser.found
    title = meta.get("og:title") or meta.get("twitter:title") or title_of(page)
    description = meta.get("og:description") or meta.get("twitter:description") or meta.get("description")
    image = meta.get("og:image") or meta.get("og:image:url") or meta.get("twitter:image")
    image_url = urljoin(url, image.strip()) if image else None
    return PageMetadata(
        title=_clean(title, MAX_TITLE),
        description=_clean(description, MAX_DESCRIPTION),
        image_url=image_url if image_url and image_url.startswith("https://") and len(image_url) <= 2048 else None,
    )


async def fetch_metadata(client: httpx.AsyncClient, url: str) -> PageMetadata:
    """The page's preview fields, or MetadataUnavailable (400) saying why."""

    def unavailable(reason: str) -> MetadataUnavailable:
        return MetadataUnavailable(f"Could not read the page: {reason}.", param="url")

    try:
        async with asyncio.timeout(TIMEOUT):
            async with client.stream(
                "GET",
                url,
                headers={
                    "accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
                    "accept-encoding": "gzip, deflate",
                    "user-agent": USER_AGENT,
                },
            ) as response:
                if response.status_code >= 300:
                    raise unavailable(f"HTTP {response.status_code}")
                content_type = response.headers.get("content-type")
                media_type = (content_type or "text/html").split(";", 1)[0].strip().lower()
                if media_type not in HTML_TYPES:
                    raise unavailable(f"not HTML ({media_type})")
                body = bytearray()
                async for chunk in response.aiter_raw():
                    body.extend(chunk)
                    if len(body) >= MAX_BYTES or b"</head" in body[-8 - len(chunk) :].lower():
                        break
                encoding = response.headers.get("content-encoding", "identity").strip().lower()
                final_url = str(response.url)
    except TimeoutError as error:
        raise unavailable(f"no answer within {TIMEOUT:g} s") from error
    except httpx.TooManyRedirects as error:
        raise unavailable("too many redirects") from error
    except httpx.HTTPError as error:
        raise unavailable(type(error).__name__) from error
    except BlockedDestination as error:
        raise unavailable("its address is not a public one") from error
    data = bytes(body[:MAX_BYTES])
    if encoding not in ("identity", ""):
        try:
            data = _decompress(data, encoding)
        except Exception as error:
            raise unavailable(f"a {encoding} body it could not inflate") from error
    return metadata_of(decode_page(data, content_type), final_url)
