"""The production recipe of docs/self-hosting.md, for real: Caddy (Debian's `caddy`) in front of `mask serve`,
on-demand TLS asking `GET /internal/tls/allowed`, `X-Forwarded-*` trusted from Caddy.

Caddy issues certificates from its own internal CA (`tls internal`, no ACME, nothing leaves the machine); its
admin endpoint and storage live in the test's temporary directory. Host names resolve to 127.0.0.1 by connecting
there and sending the name as SNI and Host (no /etc/hosts).
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.backends import require_binary
from tests.redirect.servers import MaskServer, free_port

MASK = str(Path(sys.executable).with_name("mask"))
SHORT = "sho.rt.test"
VERIFIED = "go.verified.test"
PENDING = "go.pending.test"

CADDYFILE = """
{{
    admin 127.0.0.1:{admin}
    storage file_system {{
        root {storage}
    }}
    http_port {http}
    https_port {https}
    skip_install_trust
    auto_https disable_redirects
    on_demand_tls {{
        ask http://127.0.0.1:{mask}/internal/tls/allowed
    }}
}}

https:// {{
    tls internal {{
        on_demand
    }}
    reverse_proxy 127.0.0.1:{mask}
}}
"""


def run_mask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([MASK, *args], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def caddy(tmp_path: Path) -> Iterator[tuple[int, Path, MaskServer]]:
    binary = require_binary("caddy", "scripts/debian-packages.sh caddy")
    env = {
        "MASK_ENV": "production",
        "MASK_SECRET_KEY": "s" * 48,
        "MASK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/mask.db",
        "MASK_SHORT_DOMAIN": SHORT,
        "MASK_TRUSTED_PROXIES": "127.0.0.1",
        "MASK_CLICK_SPILL_DIR": str(tmp_path / "spill"),
        "MASK_DNS_RESOLVERS": "127.0.0.1:9",  # never asked here (operator-verified), and never the internet
    }
    full_env = os.environ | env
    run_mask(full_env, "migrate")
    run_mask(full_env, "workspaces", "create", "acme")
    run_mask(full_env, "domains", "add", VERIFIED, "--workspace", "acme", "--verified")
    run_mask(full_env, "domains", "add", PENDING, "--workspace", "acme")
    key = run_mask(full_env, "keys", "create", "--workspace", "acme")
    (tmp_path / "key").write_text(key)
    server = MaskServer(env, log=tmp_path / "mask.log").start()
    https = free_port()
    storage = tmp_path / "caddy"
    config = tmp_path / "Caddyfile"
    config.write_text(
        CADDYFILE.format(admin=free_port(), storage=storage, http=free_port(), https=https, mask=server.port)
    )
    caddy_env = os.environ | {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    with open(tmp_path / "caddy.log", "wb") as log:
        process = subprocess.Popen(
            [binary, "run", "--config", str(config), "--adapter", "caddyfile"],
            env=caddy_env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        root = storage / "pki" / "authorities" / "local" / "root.crt"
        deadline = time.monotonic() + 30
        while not root.exists() or not _listening(https):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"caddy did not start: {(tmp_path / 'caddy.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield https, root, server
    finally:
        process.terminate()
        process.wait(10)
        server.stop()


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def through_caddy(port: int, root: Path, host: str, method: str, path: str, **options: object) -> httpx.Response:
    """A request to `https://<host><path>`, connecting to Caddy on 127.0.0.1 (SNI and Host say `host`), the
    certificate checked against Caddy's internal CA for `host`."""
    context = ssl.create_default_context(cafile=str(root))
    headers = {"Host": host, **options.pop("headers", {})}  # type: ignore[dict-item]
    with httpx.Client(verify=context, timeout=20) as client:
        return client.request(
            method,
            f"https://127.0.0.1:{port}{path}",
            headers=headers,
            extensions={"sni_hostname": host},
            **options,  # type: ignore[arg-type]
        )


@pytest.mark.slow
def test_caddy_gets_certificates_for_verified_domains_only_and_proxies_to_mask(
    caddy: tuple[int, Path, MaskServer], tmp_path: Path
) -> None:
    port, root, _server = caddy
    key = (tmp_path / "key").read_text()
    auth = {"Authorization": f"Bearer {key}"}
    # The default short domain gets a certificate; the API sees HTTPS through X-Forwarded-Proto (production
    # refuses plain HTTP with 403 https_required).
    created = through_caddy(
        port,
        root,
        SHORT,
        "POST",
        "/v1/links",
        headers=auth,
        json={"url": "https://example.com/landing", "slug": "hello", "domain": VERIFIED},
    )
    assert created.status_code == 201, created.text
    assert created.headers["strict-transport-security"].startswith("max-age=")
    pending_link = through_caddy(
        port, root, SHORT, "POST", "/v1/links", headers=auth, json={"url": "https://example.com/", "domain": PENDING}
    )
    assert pending_link.status_code == 201, pending_link.text

    # A verified domain: a certificate for its name, and its links redirect over HTTPS.
    redirect = through_caddy(port, root, VERIFIED, "GET", "/hello")
    assert redirect.status_code == 302 and redirect.headers["location"] == "https://example.com/landing"
    assert redirect.headers["x-robots-tag"] == "noindex"

    # An unverified domain: the ask endpoint says no, Caddy has no certificate to offer, the handshake fails.
    with pytest.raises(httpx.ConnectError):
        through_caddy(port, root, PENDING, "GET", "/")
    with pytest.raises(httpx.ConnectError):
        through_caddy(port, root, "unknown.test", "GET", "/")
    assert not list((root.parents[3] / "certificates").rglob(f"{PENDING}.crt"))
    assert list((root.parents[3] / "certificates").rglob(f"{VERIFIED}.crt"))
