"""The API reference page (`/docs`), served entirely by MASK: Swagger UI's assets ship inside the package
(`static/swagger-ui`, see SOURCE.txt there), so the page works without the internet and loads nothing from a CDN."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse, Response

from mask.kit.errors import NotFound

SWAGGER_UI_DIR = Path(__file__).resolve().parent / "static" / "swagger-ui"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}
# Swagger UI's version is in the directory's SOURCE.txt; the assets change only with a MASK release.
ASSET_CACHE = "public, max-age=86400"
FAVICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" '
    b'fill="#1f2328"/><text x="8" y="12" font-size="10" text-anchor="middle" fill="#fff" '
    b'font-family="sans-serif">M</text></svg>'
)


def install_docs(api: FastAPI) -> None:
    """`GET /docs` and its assets under `/docs/static/`."""
    assets = {name: (SWAGGER_UI_DIR / name).read_bytes() for name in ASSETS}

    @api.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=api.openapi_url or "/v1/openapi.json",
            title=f"{api.title} – reference",
            swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="/docs/static/favicon.svg",
        )

    @api.get("/docs/static/{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        if name == "favicon.svg":
            return Response(FAVICON, media_type="image/svg+xml", headers={"cache-control": ASSET_CACHE})
        body = assets.get(name)
        if body is None:
            raise NotFound(f"No route GET /docs/static/{name}.", code="route_not_found")
        return Response(body, media_type=ASSETS[name], headers={"cache-control": ASSET_CACHE})
