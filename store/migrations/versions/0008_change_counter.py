"""Schema 8: the account's change counter.

``account.changes`` (default 0) goes up by one in every write transaction that
holds the account's write lock (``Store.write``), so an open screen can tell
with one small query whether anything of the account changed since it read
(another administrator's change, the API's, a delivery), and reads again only
then. One column, no table rebuilt.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "account",
        sa.Column("changes", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.drop_column("changes")
