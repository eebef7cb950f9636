"""`mask serve --ssl-certfile/--ssl-keyfile` serves TLS itself; production then accepts the API with HSTS."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.backends import require_binary

MASK = str(Path(sys.executable).with_name("mask"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_production_over_tls_serves_the_api_with_hsts_and_refuses_plain_http(tmp_path: Path) -> None:
    openssl = require_binary("openssl", "apt-get install openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    database = f"sqlite+aiosqlite:///{tmp_path}/tls.db"
    env = os.environ | {
        "MASK_DATABASE_URL": database,
        "MASK_ENV": "production",
        "MASK_SECRET_KEY": "s" * 48,
        "MASK_LOG_LEVEL": "warning",
    }
    subprocess.run([MASK, "migrate"], env=env, check=True, capture_output=True)
    tls_port, plain_port = _free_port(), _free_port()
    tls = subprocess.Popen(
        [MASK, "serve", "--port", str(tls_port), "--ssl-certfile", str(cert), "--ssl-keyfile", str(key)], env=env
    )
    plain = subprocess.Popen([MASK, "serve", "--port", str(plain_port)], env=env)
    try:
        deadline = time.monotonic() + 120  # a hang guard, not a speed limit: a busy machine starts slowly
        while True:
            try:
                response = httpx.get(f"https://127.0.0.1:{tls_port}/v1/links", verify=False, timeout=2)
                plain_response = httpx.get(f"http://127.0.0.1:{plain_port}/v1/links", timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        assert response.status_code == 401  # reached authentication: TLS accepted
        assert response.headers["strict-transport-security"].startswith("max-age=")
        assert plain_response.status_code == 403
        assert plain_response.json()["error"]["code"] == "https_required"
    finally:
        for process in (tls, plain):
            process.terminate()
            process.wait(timeout=20)


def test_production_refuses_to_start_with_the_default_secret(tmp_path: Path) -> None:
    env = os.environ | {"MASK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db", "MASK_ENV": "production"}
    env.pop("MASK_SECRET_KEY", None)
    result = subprocess.run(
        [MASK, "serve", "--port", str(_free_port())], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2 and "MASK_SECRET_KEY" in result.stderr and "Traceback" not in result.stderr
