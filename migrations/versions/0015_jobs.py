"""one job model for long work: kind, parameters, status, progress, lease

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 18:50:00

"""
from alembic import op
import sqlalchemy as sa

import legami.timeutil


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
