"""Schema 2: a ``version`` counter on playbooks and webhooks.

Blueprints, blueprint fields and data fields already had one. With it an edit
made from a stale screen is refused (Conflict: "changed by someone else
meanwhile") instead of silently overwriting another administrator's change.
Existing rows start at version 1.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("playbook", "webhook")


def upgrade() -> None:
    for table in TABLES:
        # ADD COLUMN with a constant default: no table rebuild on SQLite, and a
        # metadata-only change on PostgreSQL (fast on large tables).
        op.add_column(
            table,
            sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")),
        )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
