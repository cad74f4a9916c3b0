"""Schema 4: contracts, and what the integration API keeps.

New tables only, plus one account column, so no table is rebuilt:

- ``contract`` and ``contract_value``: contracts made from a playbook by an
  integration, each data field's value and its source;
- ``api_request``: the request log (never a body or a token);
- ``api_rate_window``: the per-token request count of a rate-limit window,
  in the database so that every ``serve`` process shares it;
- ``account.retention_days`` (default 30): how long the request log is kept.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "account",
        sa.Column("retention_days", sa.Integer(), nullable=False, server_default=sa.text("30")),
    )
    op.create_table(
        "contract",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=True),
        sa.Column("playbook_id", sa.Integer(), nullable=True),
        sa.Column("playbook_name", AutoString(length=100), nullable=False),
        sa.Column("name", AutoString(length=200), nullable=False),
        sa.Column("state", AutoString(length=20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", AutoString(length=100), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["integration_id"], ["integration.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["playbook_id"], ["playbook.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_contract_account", "contract", ["account_id", "id"])
    op.create_index("ix_contract_integration_id", "contract", ["integration_id"])
    op.create_index("ix_contract_playbook_id", "contract", ["playbook_id"])
    op.create_table(
        "contract_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("data_field_id", sa.Integer(), nullable=True),
        sa.Column("data_field_name", AutoString(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("source_integration_id", sa.Integer(), nullable=True),
        sa.Column("source_field_id", sa.Integer(), nullable=True),
        sa.Column("source", AutoString(length=400), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contract_id"], ["contract.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["data_field_id"], ["data_field.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["source_field_id"], ["blueprint_field.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["source_integration_id"], ["integration.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contract_id", "data_field_id"),
    )
    op.create_index("ix_contract_value_data_field_id", "contract_value", ["data_field_id"])
    op.create_table(
        "api_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("token_hint", AutoString(length=40), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("method", AutoString(length=10), nullable=False),
        sa.Column("path", AutoString(length=500), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["integration_id"], ["integration.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["token_id"], ["api_token.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_api_request_account_id", "api_request", ["account_id"])
    op.create_index("ix_api_request_listed", "api_request", ["integration_id", "at"])
    op.create_index("ix_api_request_token_time", "api_request", ["token_id", "at"])
    op.create_table(
        "api_rate_window",
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["token_id"], ["api_token.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_id", "window_start"),
    )


def downgrade() -> None:
    for table in ("api_rate_window", "api_request", "contract_value", "contract"):
        op.drop_table(table)
    with op.batch_alter_table("account") as batch:
        batch.drop_column("retention_days")
