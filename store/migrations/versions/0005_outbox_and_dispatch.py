"""Schema 5 (issue 17): the transactional outbox and the dispatcher.

New tables, and new columns on two existing tables (no table is rebuilt):

- ``event``: what happened (a contract signed, a value changed), written in
  the transaction of the change that produced it;
- ``event_delivery``: one event to one subscribed webhook, with its state
  (pending, sending, delivered, retrying, exhausted, cancelled), attempt
  count, next attempt time, the lease of the dispatcher sending it and its
  callback id (one per event and webhook, the same on every attempt);
- ``dispatcher``: each running dispatcher's heartbeat;
- ``webhook``: ``paused`` and its health (consecutive failures, last success,
  first failure, exhausted in a row, automatic disable: when and why);
- ``delivery`` (the attempt log): which event delivery an attempt belongs to,
  and its number.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_WEBHOOK_COLUMNS = (
    sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("consecutive_failures", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("last_success_at", UTCDateTime(), nullable=True),
    sa.Column("first_failure_at", UTCDateTime(), nullable=True),
    sa.Column("exhausted_in_row", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("disabled_at", UTCDateTime(), nullable=True),
    sa.Column("disabled_reason", sa.Text(), nullable=True),
)


def upgrade() -> None:
    for column in _WEBHOOK_COLUMNS:
        op.add_column("webhook", column._copy())
    op.add_column("delivery", sa.Column("event_delivery_id", sa.Integer(), nullable=True))
    op.add_column("delivery", sa.Column("attempt", sa.Integer(), nullable=True))
    op.create_index("ix_delivery_event_delivery_id", "delivery", ["event_delivery_id"])
    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=True),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("type", AutoString(length=60), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["integration_id"], ["integration.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["contract_id"], ["contract.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_event_account", "event", ["account_id", "id"])
    op.create_index("ix_event_integration_id", "event", ["integration_id"])
    op.create_index("ix_event_contract_id", "event", ["contract_id"])
    op.create_table(
        "event_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("callback_id", AutoString(length=40), nullable=False),
        sa.Column("event_type", AutoString(length=60), nullable=False),
        sa.Column("state", AutoString(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("lease_owner", AutoString(length=200), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("last_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["webhook_id"], ["webhook.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "webhook_id"),
        sa.UniqueConstraint("callback_id"),
    )
    op.create_index("ix_event_delivery_due", "event_delivery", ["state", "next_attempt_at"])
    op.create_index("ix_event_delivery_webhook", "event_delivery", ["webhook_id", "id"])
    op.create_index("ix_event_delivery_account_id", "event_delivery", ["account_id"])
    op.create_table(
        "dispatcher",
        sa.Column("id", AutoString(length=200), nullable=False),
        sa.Column("host", AutoString(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    for table in ("dispatcher", "event_delivery", "event"):
        op.drop_table(table)
    op.drop_index("ix_delivery_event_delivery_id", table_name="delivery")
    with op.batch_alter_table("delivery") as batch:
        batch.drop_column("attempt")
        batch.drop_column("event_delivery_id")
    with op.batch_alter_table("webhook") as batch:
        for column in reversed(_WEBHOOK_COLUMNS):
            batch.drop_column(column.name)
