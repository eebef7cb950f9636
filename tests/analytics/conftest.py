from __future__ import annotations

import pytest

from tests.conftest import Tenant, TenantFactory


@pytest.fixture
async def tenant(make_tenant: TenantFactory) -> Tenant:
    """Enterprise plan: these tests send more requests a minute than Hobby's rate limit allows."""
    return await make_tenant(plan="enterprise")
