"""bench/soak.py, shortened: mixed load with slow-body and oversized-body attackers and an idempotent burst.
Behaviour is asserted (no 5xx, /health always answers, every attacker answered as expected, every click stored),
never a timing: the full soak (10 minutes) and its figures are in docs/benchmarks.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).resolve().parents[1] / "bench" / "soak.py"


@pytest.mark.slow
def test_a_short_soak_answers_everything_without_a_5xx_and_stores_every_click(database_url: str) -> None:
    options = ["--duration", "30", "--workers", "2", "--slow-bodies", "24", "--body-timeout", "5", "--burst", "40"]
    done = subprocess.run(
        [sys.executable, str(SOAK), "--database-url", database_url, *options, "--settle", "240", "--json"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.stdout.strip(), done.stderr[-4000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["problems"] == [], result
    assert result["five_hundreds"] == 0
    assert result["health"]["answered"] > 0 and set(result["statuses"]["health"]) == {"200"}
    assert set(result["statuses"]["slow"]) == {"408"}
    assert set(result["statuses"]["oversized"]) == {"413"}
    assert result["statuses"]["burst"] == {"201": 40} and result["replay_mismatches"] == 0
    assert result["redirects_answered"] > 0
    assert result["clicks_stored"] == result["redirects_answered"]
    assert done.returncode == 0
