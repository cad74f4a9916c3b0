"""${message}

Revision ${up_revision} (after ${down_revision | comma,n}). Bump SCHEMA_VERSION
and HEAD_REVISION in store/db.py to this revision, and add a row-preserving
upgrade test.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
