"""The SDK's README tour runs as written: its ```python blocks, in order, in one namespace, against a real server.

The README reads its server, key and webhook receiver from the environment (`MASK_BASE_URL`, `MASK_API_KEY`,
`MASK_WEBHOOK_URL`), which this test sets. Then the receiver function the tour defines is handed the `ping` the tour
asked for, as a web framework would hand it over.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sdk.conftest import SdkServer, eventually
from tests.sdk.receiver import Receiver

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "clients" / "python" / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def python_blocks() -> list[str]:
    return BLOCK.findall(README.read_text(encoding="utf-8"))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


def test_the_readme_has_a_tour_to_run() -> None:
    blocks = python_blocks()
    assert len(blocks) >= 6
    assert all("mask_sdk" in text or "client." in text for text in blocks)


def test_the_readme_tour_runs_against_a_real_server(
    server: SdkServer, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MASK_API_KEY", server.workspace().key)
    monkeypatch.setenv("MASK_BASE_URL", server.url)
    monkeypatch.setenv("MASK_WEBHOOK_URL", receiver.url)
    namespace: dict[str, Any] = {"__name__": "readme"}
    try:
        for number, block in enumerate(python_blocks(), start=1):
            exec(compile(block, f"{README.name}, python block {number}", "exec"), namespace)
        printed = capsys.readouterr().out
        link = namespace["link"]
        assert link.short_url in printed
        assert "409 slug_taken slug req_" in printed
        assert "url unsupported_scheme" in printed and "slug invalid_slug" in printed

        ping = eventually(lambda: receiver.events("ping")[:1], message="the tour's test event")[0]
        assert namespace["receive"](ping.body, ping.headers) == 204
        assert namespace["receive"](ping.body.replace(b"test", b"fake"), ping.headers) == 400
    finally:
        if "client" in namespace:
            namespace["client"].close()
