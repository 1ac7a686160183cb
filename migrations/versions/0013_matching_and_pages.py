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
    op.create_table('fundraising_pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('is_team', sa.Boolean(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=150), nullable=False),
    sa.Column('story', sa.Text(), nullable=False),
    sa.Column('photo', sa.String(length=100), nullable=True),
    sa.Column('goal_cents', sa.Integer(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('on_leaderboard', sa.Boolean(), nullable=False),
    sa.Column('created_ip', sa.String(length=45), nullable=False),
    sa.Column('created_at', legami.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', legami.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_at', legami.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('hidden_at', legami.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.Column('goal_reached_at', legami.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.Column('thanks_message', sa.Text(), nullable=False),
    sa.Column('thanks_sent_at', legami.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('unconfirmed', 'pending', 'live', 'hidden', 'rejected')", name=op.f('ck_fundraising_pages_status')),
    sa.CheckConstraint('NOT (is_team AND team_id IS NOT NULL)', name=op.f('ck_fundraising_pages_team_in_no_team')),
    sa.CheckConstraint('goal_cents > 0', name=op.f('ck_fundraising_pages_goal_positive')),
    sa.CheckConstraint('length(story) <= 2000', name=op.f('ck_fundraising_pages_story_length')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_fundraising_pages_approved_by_id_users')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_fundraising_pages_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['owner_id'], ['donors.id'], name=op.f('fk_fundraising_pages_owner_id_donors')),
    sa.ForeignKeyConstraint(['team_id'], ['fundraising_pages.id'], name=op.f('fk_fundraising_pages_team_id_fundraising_pages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fundraising_pages')),
    sa.UniqueConstraint('slug', name=op.f('uq_fundraising_pages_slug'))
    )
    with op.batch_alter_table('fundraising_pages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fundraising_pages_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fundraising_pages_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fundraising_pages_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_fundraising_pages_team_id'), ['team_id'], unique=False)

    op.create_table('fundraising_settings',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('allow_pages', sa.Boolean(), nullable=False),
    sa.Column('needs_approval', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_fundraising_settings_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', name=op.f('pk_fundraising_settings'))
    )
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

    op.create_table('page_gifts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('donation_id', sa.Integer(), nullable=True),
    sa.Column('recurring_gift_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(donation_id IS NULL) <> (recurring_gift_id IS NULL)', name=op.f('ck_page_gifts_one_gift')),
    sa.ForeignKeyConstraint(['donation_id'], ['donations.id'], name=op.f('fk_page_gifts_donation_id_donations')),
    sa.ForeignKeyConstraint(['page_id'], ['fundraising_pages.id'], name=op.f('fk_page_gifts_page_id_fundraising_pages')),
    sa.ForeignKeyConstraint(['recurring_gift_id'], ['recurring_gifts.id'], name=op.f('fk_page_gifts_recurring_gift_id_recurring_gifts')),
    sa.ForeignKeyConstraint(['team_id'], ['fundraising_pages.id'], name=op.f('fk_page_gifts_team_id_fundraising_pages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page_gifts')),
    sa.UniqueConstraint('donation_id', name=op.f('uq_page_gifts_donation_id')),
    sa.UniqueConstraint('recurring_gift_id', name=op.f('uq_page_gifts_recurring_gift_id'))
    )
    with op.batch_alter_table('page_gifts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_page_gifts_page_id'), ['page_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_page_gifts_team_id'), ['team_id'], unique=False)

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
    with op.batch_alter_table('page_gifts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_page_gifts_team_id'))
        batch_op.drop_index(batch_op.f('ix_page_gifts_page_id'))

    op.drop_table('page_gifts')
    with op.batch_alter_table('matching_challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_matching_challenges_matcher_id'))
        batch_op.drop_index(batch_op.f('ix_matching_challenges_campaign_id'))

    op.drop_table('matching_challenges')
    op.drop_table('fundraising_settings')
    with op.batch_alter_table('fundraising_pages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fundraising_pages_team_id'))
        batch_op.drop_index(batch_op.f('ix_fundraising_pages_status'))
        batch_op.drop_index(batch_op.f('ix_fundraising_pages_owner_id'))
        batch_op.drop_index(batch_op.f('ix_fundraising_pages_campaign_id'))

    op.drop_table('fundraising_pages')
