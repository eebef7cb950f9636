from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mask.models.auth import ApiKey


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_by_hash(self, token_hash: str) -> ApiKey | None:
        result = await self.session.execute(select(ApiKey).where(ApiKey.token_hash == token_hash))
        return result.scalar_one_or_none()

    async def get(self, workspace_id: str, key_id: str) -> ApiKey | None:
        result = await self.session.execute(
            select(ApiKey).where(ApiKey.id == key_id, ApiKey.workspace_id == workspace_id)
        )
        return result.scalar_one_or_none()

    async def list_for_workspace(self, workspace_id: str) -> list[ApiKey]:
        result = await self.session.execute(
            select(ApiKey).where(ApiKey.workspace_id == workspace_id).order_by(ApiKey.created_at.desc())
        )
        return list(result.scalars())

    async def set_last_used(self, key_id: str, when: datetime, ip_prefix: str | None) -> None:
        await self.session.execute(
            update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=when, last_used_ip_prefix=ip_prefix)
        )

    def add(self, key: ApiKey) -> None:
        self.session.add(key)
