"""Schema 1: the tables of release 0.1.0 (the baseline).

A database of schema 1 was created by ``create_all`` and carries
``meta.schema_version = 1`` but no ``alembic_version`` table; the upgrade
stamps it with this revision before running the later ones. Nothing to do here.
"""

from __future__ import annotations

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
