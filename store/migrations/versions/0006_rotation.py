"""Schema 6: rotation of signing keys and API tokens without downtime.

New nullable columns only, so no table is rebuilt:

- ``webhook.previous_key`` and ``webhook.previous_key_until``: the signing key
  a rotation replaced, still signing (beside the new one) until then;
- ``api_token.previous_hash``, ``previous_hint`` and ``previous_until``: the
  token a rotation replaced (its hash only, as for every token), which keeps
  verifying until ``previous_until`` and is then refused as "rotated".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("webhook", sa.Column("previous_key", AutoString(length=500), nullable=True))
    op.add_column("webhook", sa.Column("previous_key_until", UTCDateTime(), nullable=True))
    op.add_column("api_token", sa.Column("previous_hash", AutoString(length=64), nullable=True))
    op.add_column("api_token", sa.Column("previous_hint", AutoString(length=40), nullable=True))
    op.add_column("api_token", sa.Column("previous_until", UTCDateTime(), nullable=True))
    op.create_index("ix_api_token_previous_hash", "api_token", ["previous_hash"])


def downgrade() -> None:
    op.drop_index("ix_api_token_previous_hash", table_name="api_token")
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("previous_until")
        batch.drop_column("previous_hint")
        batch.drop_column("previous_hash")
    with op.batch_alter_table("webhook") as batch:
        batch.drop_column("previous_key_until")
        batch.drop_column("previous_key")
