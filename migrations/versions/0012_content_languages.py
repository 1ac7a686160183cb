"""campaign, pact, lab and update content in Italian and English

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 17:45:00

"""
from alembic import op
import sqlalchemy as sa

import legami.timeutil


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
