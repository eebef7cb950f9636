from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mask.models.qr import QrStyle


class QrStyleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, workspace_id: str) -> QrStyle | None:
        return await self.session.scalar(select(QrStyle).where(QrStyle.workspace_id == workspace_id))

    def add(self, style: QrStyle) -> None:
        self.session.add(style)
