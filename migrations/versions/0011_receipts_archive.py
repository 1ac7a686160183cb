"""receipts for auditors: summaries, payment traces, seals, integrity checks

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 18:00:00

"""
from alembic import op
import sqlalchemy as sa

import legami.timeutil


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
