"""The audit log: every change, who, when, what, on which object. No secrets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, or_, select

from . import clock
from .models import AuditEntry


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: int | None
    object_name: str
    detail: str


def record(
    s: Session,
    *,
    account_id: int,
    actor: str,
    action: str,
    object_type: str,
    object_id: int | None = None,
    object_name: str = "",
    detail: str = "",
) -> None:
    """Add an audit entry inside the caller's transaction. Never pass a secret."""
    s.add(
        AuditEntry(
            account_id=account_id,
            at=clock.now(),
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_name=object_name[:200],
            detail=detail,
        )
    )


def _to_record(e: AuditEntry) -> AuditRecord:
    return AuditRecord(
        id=e.id or 0,
        at=e.at,
        actor=e.actor,
        action=e.action,
        object_type=e.object_type,
        object_id=e.object_id,
        object_name=e.object_name,
        detail=e.detail,
    )


def entries(
    store, account_id: int, *, text: str = "", limit: int = 200, before_id: int | None = None
) -> list[AuditRecord]:
    """Newest first; ``text`` filters by actor, action or object (in SQL)."""
    q = select(AuditEntry).where(AuditEntry.account_id == account_id)
    if text:
        like = f"%{text.lower()}%"
        q = q.where(
            or_(
                func.lower(AuditEntry.actor).like(like),
                func.lower(AuditEntry.action).like(like),
                func.lower(AuditEntry.object_type).like(like),
                func.lower(AuditEntry.object_name).like(like),
            )
        )
    if before_id is not None:
        q = q.where(AuditEntry.id < before_id)
    q = q.order_by(col(AuditEntry.id).desc()).limit(limit)
    with store.read() as s:
        return [_to_record(e) for e in s.exec(q).all()]
