"""mask.serving: what uvicorn answers by itself is in the error shape, under a real server with MASK's protocol."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rate_limit.conftest import free_port, wait_for_port
from tests.rawhttp import assert_error_shape, connect, head, read_response

APP = textwrap.dedent(
    """
    import sys
    import uvicorn

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        if scope["path"] == "/raise":
            raise RuntimeError("an app that fails before answering")
        if scope["path"] == "/silent":
            return  # returns without answering
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    uvicorn.run(app, port=int(sys.argv[1]), http="mask.serving:MaskHttpProtocol", log_level="critical", lifespan="off")
    """
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    script = tmp_path / "app.py"
    script.write_text(APP)
    process = subprocess.Popen([sys.executable, str(script), str(port)])
    try:
        wait_for_port(port, timeout=60)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.mark.slow
def test_uvicorns_own_500_is_in_the_error_shape(server: int) -> None:
    for path in ("/raise", "/silent"):
        with connect(server) as sock:
            sock.sendall(head("GET", path, {}))
            assert_error_shape(read_response(sock), 500, "internal_error")
    with connect(server) as sock:
        sock.sendall(head("GET", "/", {}))
        response = read_response(sock)
        assert (response.status, response.body) == (200, b"ok")


@pytest.mark.slow
def test_a_pipelined_request_after_a_large_body_is_parsed_with_its_own_head_budget(server: int) -> None:
    # Two requests in one write: the first's body is large, the second's head small; only heads are capped.
    first = head("POST", "/", {"Content-Length": "60000"}) + b"a" * 60_000
    with connect(server) as sock:
        sock.sendall(first + head("GET", "/", {}))
        sock.settimeout(60)
        answers = b""
        while answers.count(b"HTTP/1.1 ") < 2:
            received = sock.recv(65536)
            assert received, answers
            answers += received
        assert answers.count(b"HTTP/1.1 200 OK\r\n") == 2, answers
