"""matching challenges and personal fundraising pages

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 17:45:00

"""
from alembic import op
import sqlalchemy as sa

import legami.timeutil


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('matching_challenges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('matcher_id', sa.Integer(), nullable=False),
    sa.Column('ratio_percent', sa.Integer(), nullable=False),
    sa.Column('cap_cents', sa.Integer(), nullable=False),
    sa.Column('committed_cents', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('one_off', sa.Boolean(), nullable=False),
    sa.Column('monthly', sa.Boolean(), nullable=False),
    sa.Column('first_time_only', sa.Boolean(), nullable=False),
    sa.Column('per_gift_ceiling_cents', sa.Integer(), nullable=True),
    sa.Column('public_text', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('asked_cents', sa.Integer(), nullable=True),
    sa.Column('asked_at', legami.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.Column('settled_donation_id', sa.Integer(), nullable=True),
    sa.Column('settled_at', legami.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', legami.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('asked_cents IS NULL OR asked_cents >= 0', name=op.f('ck_matching_challenges_asked_not_negative')),
    sa.CheckConstraint('cap_cents > 0', name=op.f('ck_matching_challenges_cap_positive')),
    sa.CheckConstraint('committed_cents >= 0 AND committed_cents <= cap_cents', name=op.f('ck_matching_challenges_committed_in_cap')),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_matching_challenges_ends_after_start')),
    sa.CheckConstraint('one_off OR monthly', name=op.f('ck_matching_challenges_counts_some_gifts')),
    sa.CheckConstraint('per_gift_ceiling_cents IS NULL OR per_gift_ceiling_cents > 0', name=op.f('ck_matching_challenges_ceiling_positive')),
    sa.CheckConstraint('ratio_percent > 0 AND ratio_percent <= 1000', name=op.f('ck_matching_challenges_ratio_range')),
    sa.CheckConstraint('settled_donation_id IS NULL OR asked_cents IS NOT NULL', name=op.f('ck_matching_challenges_settled_was_asked')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_matching_challenges_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_matching_challenges_created_by_id_users')),
    sa.ForeignKeyConstraint(['matcher_id'], ['donors.id'], name=op.f('fk_matching_challenges_matcher_id_donors')),
    sa.ForeignKeyConstraint(['settled_donation_id'], ['donations.id'], name=op.f('fk_matching_challenges_settled_donation_id_donations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matching_challenges')),
    sa.UniqueConstraint('settled_donation_id', name=op.f('uq_matching_challenges_settled_donation_id'))
    )
    with op.batch_alter_table('matching_challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_matching_challenges_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_matching_challenges_matcher_id'), ['matcher_id'], unique=False)

    op.create_table('match_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('donation_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('base_cents', sa.Integer(), nullable=False),
    sa.Column('matched_cents', sa.Integer(), nullable=False),
    sa.Column('held_cents', sa.Integer(), nullable=False),
    sa.Column('released_reason', sa.String(length=20), nullable=False),
    sa.Column('created_at', legami.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', legami.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('base_cents > 0', name=op.f('ck_match_lines_base_positive')),
    sa.CheckConstraint('held_cents >= 0 AND held_cents <= matched_cents', name=op.f('ck_match_lines_held_in_matched')),
    sa.CheckConstraint('matched_cents > 0', name=op.f('ck_match_lines_matched_positive')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_match_lines_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['challenge_id'], ['matching_challenges.id'], name=op.f('fk_match_lines_challenge_id_matching_challenges')),
    sa.ForeignKeyConstraint(['donation_id'], ['donations.id'], name=op.f('fk_match_lines_donation_id_donations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_lines')),
    sa.UniqueConstraint('challenge_id', 'donation_id', name='uq_match_lines_gift')
    )
    with op.batch_alter_table('match_lines', schema=None) as batch_op:
        batch_op.create_index('ix_match_lines_campaign', ['campaign_id', 'challenge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_lines_donation_id'), ['donation_id'], unique=False)

    with op.batch_alter_table('campaign_totals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('matched_cents', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('campaign_totals', schema=None) as batch_op:
        batch_op.drop_column('matched_cents')

    with op.batch_alter_table('match_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_lines_donation_id'))
        batch_op.drop_index('ix_match_lines_campaign')

    op.drop_table('match_lines')
    with op.batch_alter_table('matching_challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_matching_challenges_matcher_id'))
        batch_op.drop_index(batch_op.f('ix_matching_challenges_campaign_id'))

    op.drop_table('matching_challenges')
