"""Production serves the API over TLS only; proxy headers count only from trusted proxies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from mask.app import MaskApp
from mask.bootstrap import create_app
from mask.config import Settings

STRONG = "k" * 48


@pytest.fixture
async def production_app(database_url: str, tmp_path: Path) -> AsyncIterator[MaskApp]:
    settings = Settings(
        env="production",
        database_url=database_url,
        secret_key=STRONG,
        trusted_proxies=["10.0.0.0/8"],
        click_journal_dir=str(tmp_path / "clicks"),  # this test's own (never the working directory's var/)
    )
    application = create_app(settings)
    await application.context.startup()
    yield application
    await application.context.shutdown()


def client_for(app: MaskApp, *, scheme: str, peer: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 1234))
    return httpx.AsyncClient(transport=transport, base_url=f"{scheme}://localhost:8000")


async def test_plain_http_api_requests_are_refused_in_production(production_app: MaskApp) -> None:
    async with client_for(production_app, scheme="http", peer="203.0.113.9") as client:
        response = await client.get("/v1/links")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "https_required"
    assert "strict-transport-security" not in response.headers


async def test_tls_requests_pass_and_get_hsts(production_app: MaskApp) -> None:
    async with client_for(production_app, scheme="https", peer="203.0.113.9") as client:
        response = await client.get("/v1/links")
    assert response.status_code == 401  # past the TLS check, on to authentication
    assert response.headers["strict-transport-security"].startswith("max-age=")


@pytest.mark.parametrize(("peer", "expected"), [("10.1.2.3", 401), ("203.0.113.9", 403)])
async def test_forwarded_proto_counts_only_from_trusted_proxies(
    production_app: MaskApp, peer: str, expected: int
) -> None:
    async with client_for(production_app, scheme="http", peer=peer) as client:
        response = await client.get("/v1/links", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == expected


async def test_development_accepts_plain_http(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/links")).status_code == 401


@pytest.mark.parametrize("secret", [None, "short", "dev-insecure-secret-key-change-me"])
def test_production_refuses_to_start_without_a_strong_secret(secret: str | None) -> None:
    values: dict[str, Any] = {"env": "production"} | ({"secret_key": secret} if secret else {})
    with pytest.raises(ValidationError, match="MASK_SECRET_KEY"):
        Settings(**values)


def test_trusted_proxies_are_read_from_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASK_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1")
    assert Settings().trusted_proxies == ["10.0.0.0/8", "192.168.1.1"]
    monkeypatch.setenv("MASK_TRUSTED_PROXIES", "not-an-ip")
    with pytest.raises(ValidationError):
        Settings()
