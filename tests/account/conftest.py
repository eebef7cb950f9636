from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from mask.account import passwords


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Real Argon2id with small cost parameters, so hundreds of hashes do not dominate the suite's time."""
    monkeypatch.setattr(passwords, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
