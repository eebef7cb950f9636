"""QR codes in the API: what they encode (read back as a phone would, with zxing-cpp), their ETag, the colour
rules, the quiet zone, logos (sanitised, forcing error correction H, still readable) and the workspace style."""

from __future__ import annotations

import base64
import io
from typing import Any

import httpx
import pytest
import resvg_py
import segno
import zxingcpp
from PIL import Image

from mask.qr.render import LOGO_AREA, _logo_box
from tests.conftest import Tenant, TenantFactory


def read(image: bytes, media_type: str) -> list[str]:
    """The texts of the QR codes in a PNG or an SVG image."""
    if media_type.startswith("image/svg+xml"):
        image = bytes(resvg_py.svg_to_bytes(svg_string=image.decode(), width=600, skip_system_fonts=True))
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(image)))]


async def link(client: httpx.AsyncClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    response = await client.post(
        "/v1/links", json={"url": "https://example.com/", "title": "t", **fields}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def colours(image: Image.Image) -> list[tuple[int, ...]]:
    data = image.convert("RGB").tobytes()
    return [tuple(data[i : i + 3]) for i in range(0, len(data), 3)]


def logo_png(color: tuple[int, int, int] = (220, 38, 38)) -> str:
    image = Image.new("RGBA", (120, 80), (*color, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.mark.parametrize("fmt", ["png", "svg"])
async def test_the_code_encodes_the_short_url_with_the_scan_marker(
    client: httpx.AsyncClient, tenant: Tenant, fmt: str
) -> None:
    created = await link(client, tenant, slug="menu")
    response = await client.get(f"/v1/links/{created['id']}/qr", params={"format": fmt}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("image/png" if fmt == "png" else "image/svg+xml")
    assert read(response.content, response.headers["content-type"]) == ["http://localhost:8000/menu?qr=1"]


async def test_the_etag_follows_the_encoded_url_and_the_style(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await link(client, tenant, slug="before")
    path = f"/v1/links/{created['id']}/qr"
    first = await client.get(path, headers=tenant.headers)
    etag = first.headers["etag"]
    again = await client.get(path, headers={**tenant.headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert (await client.get(path, params={"fg": "1f2937"}, headers=tenant.headers)).headers["etag"] != etag
    await client.patch(f"/v1/links/{created['id']}", json={"slug": "after"}, headers=tenant.headers)
    changed = await client.get(path, headers={**tenant.headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert read(changed.content, "image/png") == ["http://localhost:8000/after?qr=1"]


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"fg": "777777", "bg": "888888"}, "fg", "low_contrast"),
        ({"fg": "ffffff", "bg": "000000"}, "fg", "inverted_colors"),
        ({"fg": "#fff", "bg": "#000"}, "fg", "inverted_colors"),
        ({"fg": "red"}, "fg", "invalid_color"),
        ({"bg": "12345g"}, "bg", "invalid_color"),
        ({"format": "gif"}, "format", "literal_error"),
        ({"ecc": "X"}, "ecc", "literal_error"),
        ({"size": "10"}, "size", "greater_than_equal"),
        ({"margin": "-1"}, "margin", "greater_than_equal"),
        ({"colour": "blue"}, "colour", "unknown_parameter"),
        ({"size": "64", "margin": "20"}, "size", "size_too_small"),
        ({"logo": "true"}, "logo", "no_logo"),
    ],
)
async def test_bad_qr_parameters_are_422_naming_them(
    client: httpx.AsyncClient, tenant: Tenant, params: dict[str, str], param: str, code: str
) -> None:
    created = await link(client, tenant)
    response = await client.get(f"/v1/links/{created['id']}/qr", params=params, headers=tenant.headers)
    assert response.status_code == 422, response.text
    errors = {error["param"]: error["code"] for error in response.json()["error"]["errors"]}
    assert errors.get(param) == code, errors


async def test_the_quiet_zone_is_four_modules_by_default(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await link(client, tenant, slug="quiet")
    code = segno.make("http://localhost:8000/quiet?qr=1", error="m", boost_error=False)
    side = 2 * int(code.symbol_size(border=4)[0])  # two pixels per module at this size
    response = await client.get(f"/v1/links/{created['id']}/qr", params={"size": side}, headers=tenant.headers)
    pixels = Image.open(io.BytesIO(response.content)).convert("L")
    assert pixels.size == (side, side)
    data = pixels.tobytes()
    dark = [(x, y) for y in range(side) for x in range(side) if data[y * side + x] < 128]
    assert min(x for x, _ in dark) == 8 and min(y for _, y in dark) == 8
    assert max(x for x, _ in dark) == side - 9 and max(y for _, y in dark) == side - 9


async def test_a_logo_is_drawn_with_error_correction_h_and_the_code_still_reads(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    created = await link(client, tenant, slug="with-logo")
    plain = await client.get(f"/v1/links/{created['id']}/qr", headers=tenant.headers)
    style = await client.patch(
        "/v1/qr-style", json={"logo": {"media_type": "image/png", "data": logo_png()}}, headers=tenant.headers
    )
    assert style.status_code == 200, style.text
    assert style.json()["logo"]["media_type"] == "image/png"
    for fmt in ("png", "svg"):
        drawn = await client.get(f"/v1/links/{created['id']}/qr", params={"format": fmt}, headers=tenant.headers)
        assert read(drawn.content, drawn.headers["content-type"]) == ["http://localhost:8000/with-logo?qr=1"]
    with_logo = await client.get(f"/v1/links/{created['id']}/qr", headers=tenant.headers)
    assert with_logo.headers["etag"] != plain.headers["etag"]
    image = Image.open(io.BytesIO(with_logo.content)).convert("RGB")
    red = sum(1 for pixel in colours(image) if pixel == (220, 38, 38))
    assert 0 < red <= LOGO_AREA * image.width * image.height
    explicit_l = await client.get(f"/v1/links/{created['id']}/qr", params={"ecc": "L"}, headers=tenant.headers)
    assert explicit_l.headers["etag"] == with_logo.headers["etag"]  # a logo forces H whatever was asked
    without = await client.get(f"/v1/links/{created['id']}/qr", params={"logo": "false"}, headers=tenant.headers)
    assert without.headers["etag"] == plain.headers["etag"]


def test_the_logo_box_covers_at_most_a_fifth_of_any_symbol() -> None:
    for version in range(1, 41):
        symbol = 17 + 4 * version
        start, side = _logo_box(symbol, 4)
        assert side * side <= 0.2 * symbol * symbol
        assert start - 4 == symbol - side - (start - 4)  # centred


SVG_LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4" fill="#2563eb"/>'
    "<script>alert(1)</script></svg>"
)


@pytest.mark.parametrize(
    "svg",
    [
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><image '
        'xlink:href="/etc/passwd" width="10" height="10"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/hostname" width="9" height="9"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><image href="http://169.254.169.254/x.png"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(/tmp/x.svg#p)" width="5" height="5"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://evil.test/a.css);</style></svg>',
        '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        '<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>',
        '<?xml-stylesheet href="https://evil.test/a.css"?><svg xmlns="http://www.w3.org/2000/svg"/>',
        "<html>not svg</html>",
        "<svg",
    ],
)
async def test_an_svg_logo_that_reaches_outside_itself_or_is_no_svg_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, svg: str
) -> None:
    response = await client.patch(
        "/v1/qr-style",
        json={"logo": {"media_type": "image/svg+xml", "data": base64.b64encode(svg.encode()).decode()}},
        headers=tenant.headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["errors"][0]["param"] == "logo.data"
    assert (await client.get("/v1/qr-style", headers=tenant.headers)).json()["logo"] is None


async def test_an_svg_logo_is_kept_only_as_the_pixels_it_draws(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.patch(
        "/v1/qr-style",
        json={"logo": {"media_type": "image/svg+xml", "data": base64.b64encode(SVG_LOGO.encode()).decode()}},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    created = await link(client, tenant, slug="svg-logo")
    drawn = await client.get(f"/v1/links/{created['id']}/qr", params={"format": "svg"}, headers=tenant.headers)
    assert b"<script" not in drawn.content and b"alert" not in drawn.content
    assert b"data:image/png;base64," in drawn.content
    assert read(drawn.content, "image/svg+xml") == ["http://localhost:8000/svg-logo?qr=1"]


@pytest.mark.parametrize(
    ("logo", "code"),
    [
        ({"media_type": "image/png", "data": base64.b64encode(b"not a png at all").decode()}, "invalid_logo"),
        ({"media_type": "image/png", "data": "%%%not base64"}, "invalid_base64"),
        ({"media_type": "image/png", "data": base64.b64encode(b"\x89PNG" + b"0" * 262_200).decode()}, "invalid_logo"),
        ({"media_type": "image/png", "data": base64.b64encode(b"0" * 300_000).decode()}, "string_too_long"),
    ],
)
async def test_a_logo_that_is_not_a_small_png_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, logo: dict[str, str], code: str
) -> None:
    response = await client.patch("/v1/qr-style", json={"logo": logo}, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["errors"][0]["code"] == code


async def test_the_workspace_style_is_the_default_and_stays_in_its_workspace(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    mine, theirs = await make_tenant(), await make_tenant()
    default = (await client.get("/v1/qr-style", headers=mine.headers)).json()
    assert (default["fg"], default["bg"], default["ecc"], default["margin"], default["logo"]) == (
        "#000000",
        "#ffffff",
        "M",
        4,
        None,
    )
    bad = await client.patch("/v1/qr-style", json={"fg": "#eeeeee"}, headers=mine.headers)
    assert bad.status_code == 422 and bad.json()["error"]["errors"][0]["code"] == "low_contrast"
    changed = await client.patch("/v1/qr-style", json={"fg": "#1e3a8a", "ecc": "Q", "margin": 6}, headers=mine.headers)
    assert changed.status_code == 200, changed.text
    created = await link(client, mine, slug="styled")
    image = Image.open(io.BytesIO((await client.get(f"/v1/links/{created['id']}/qr", headers=mine.headers)).content))
    assert (30, 58, 138) in set(colours(image))
    assert (await client.get("/v1/qr-style", headers=theirs.headers)).json()["fg"] == "#000000"
    other = await link(client, theirs, slug="plain")
    image = Image.open(io.BytesIO((await client.get(f"/v1/links/{other['id']}/qr", headers=theirs.headers)).content))
    assert (30, 58, 138) not in set(colours(image))


async def test_reading_needs_links_read_and_styling_links_write(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    reader = await make_tenant(scopes=["links:read"])
    assert (await client.get("/v1/qr-style", headers=reader.headers)).status_code == 200
    refused = await client.patch("/v1/qr-style", json={"margin": 2}, headers=reader.headers)
    assert refused.status_code == 403 and refused.json()["error"]["required_scope"] == "links:write"
