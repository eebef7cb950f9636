from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from mask.account import passwords
from tests.conftest import Tenant, TenantFactory


@pytest.fixture
async def tenant(make_tenant: TenantFactory) -> Tenant:
    """Enterprise plan: these tests send more requests a minute than Hobby's rate limit allows."""
    return await make_tenant(plan="enterprise")


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Real Argon2id with small cost parameters: these tests hash and check many passwords."""
    monkeypatch.setattr(passwords, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
