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
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_en', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('summary_en', sa.String(length=500), server_default='', nullable=False))
        batch_op.add_column(sa.Column('story_en', sa.Text(), server_default='', nullable=False))

    with op.batch_alter_table('pacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_en', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('summary_en', sa.String(length=500), server_default='', nullable=False))
        batch_op.add_column(sa.Column('story_en', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('reciprocity_en', sa.Text(), server_default='', nullable=False))

    with op.batch_alter_table('labs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_en', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('summary_en', sa.String(length=500), server_default='', nullable=False))
        batch_op.add_column(sa.Column('story_en', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('schedule_en', sa.String(length=500), server_default='', nullable=False))

    with op.batch_alter_table('campaign_updates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_en', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('body_en', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('campaign_updates', schema=None) as batch_op:
        batch_op.drop_column('body_en')
        batch_op.drop_column('title_en')

    with op.batch_alter_table('labs', schema=None) as batch_op:
        batch_op.drop_column('schedule_en')
        batch_op.drop_column('story_en')
        batch_op.drop_column('summary_en')
        batch_op.drop_column('title_en')

    with op.batch_alter_table('pacts', schema=None) as batch_op:
        batch_op.drop_column('reciprocity_en')
        batch_op.drop_column('story_en')
        batch_op.drop_column('summary_en')
        batch_op.drop_column('title_en')

    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('story_en')
        batch_op.drop_column('summary_en')
        batch_op.drop_column('title_en')
