"""expenses, restitution, fundraising plan, report-back newsletters

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 17:45:00

"""
from alembic import op
import sqlalchemy as sa

import legami.timeutil


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('expenses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=True),
    sa.Column('lab_id', sa.Integer(), nullable=True),
    sa.Column('spent_on', sa.Date(), nullable=False),
    sa.Column('payee', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('document', sa.String(length=100), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', legami.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', legami.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("category IN ('materials', 'services', 'people', 'places', 'travel', 'food', 'communication', 'other')", name=op.f('ck_expenses_category')),
    sa.CheckConstraint("payee <> '' AND description <> ''", name=op.f('ck_expenses_texts_present')),
    sa.CheckConstraint('(amount_cents > 0 AND reverses_id IS NULL) OR (amount_cents < 0 AND reverses_id IS NOT NULL)', name=op.f('ck_expenses_sign_matches_kind')),
    sa.CheckConstraint('(approved_by_id IS NULL) = (approved_at IS NULL)', name=op.f('ck_expenses_approval_complete')),
    sa.CheckConstraint('approved_by_id IS NULL OR approved_by_id <> recorded_by_id', name=op.f('ck_expenses_four_eyes')),
    sa.CheckConstraint('pact_id IS NULL OR lab_id IS NULL', name=op.f('ck_expenses_one_programme')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_expenses_approved_by_id_users')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_expenses_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['lab_id'], ['labs.id'], name=op.f('fk_expenses_lab_id_labs')),
    sa.ForeignKeyConstraint(['pact_id'], ['pacts.id'], name=op.f('fk_expenses_pact_id_pacts')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_expenses_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['reverses_id'], ['expenses.id'], name=op.f('fk_expenses_reverses_id_expenses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expenses')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_expenses_reverses_id'))
    )
    with op.batch_alter_table('expenses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expenses_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_expenses_lab_id'), ['lab_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_expenses_pact_id'), ['pact_id'], unique=False)

    op.create_table('campaign_strategies',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('strategy', sa.String(length=20), nullable=False),
    sa.CheckConstraint("strategy IN ('pacts', 'labs', 'civic_centres', 'welfare_lab', 'plan', 'other')", name=op.f('ck_campaign_strategies_strategy')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_strategies_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', name=op.f('pk_campaign_strategies'))
    )
    op.create_table('plan_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('dimension', sa.String(length=10), nullable=False),
    sa.Column('key', sa.String(length=20), nullable=False),
    sa.Column('target_cents', sa.Integer(), nullable=False),
    sa.CheckConstraint("dimension IN ('strategy', 'channel')", name=op.f('ck_plan_targets_dimension')),
    sa.CheckConstraint('target_cents >= 0', name=op.f('ck_plan_targets_target_not_negative')),
    sa.CheckConstraint('year >= 2000 AND year <= 2100', name=op.f('ck_plan_targets_year_range')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_plan_targets_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_targets')),
    sa.UniqueConstraint('organisation_id', 'year', 'dimension', 'key', name='one_per_key')
    )
    with op.batch_alter_table('plan_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_targets_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('outcomes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=True),
    sa.Column('lab_id', sa.Integer(), nullable=True),
    sa.Column('happened_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', legami.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(pact_id IS NOT NULL AND kind IN ('hours', 'task', 'skill')) OR (lab_id IS NOT NULL AND kind IN ('meeting', 'action'))", name=op.f('ck_outcomes_kind_fits_programme')),
    sa.CheckConstraint("description <> ''", name=op.f('ck_outcomes_description_present')),
    sa.CheckConstraint("kind IN ('hours', 'task', 'skill', 'meeting', 'action')", name=op.f('ck_outcomes_kind')),
    sa.CheckConstraint('(pact_id IS NULL) <> (lab_id IS NULL)', name=op.f('ck_outcomes_one_programme')),
    sa.CheckConstraint('quantity > 0 AND quantity <= 100000', name=op.f('ck_outcomes_quantity_range')),
    sa.ForeignKeyConstraint(['lab_id'], ['labs.id'], name=op.f('fk_outcomes_lab_id_labs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pact_id'], ['pacts.id'], name=op.f('fk_outcomes_pact_id_pacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_outcomes_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcomes'))
    )
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcomes_happened_on'), ['happened_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_outcomes_lab_id'), ['lab_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outcomes_pact_id'), ['pact_id'], unique=False)

    with op.batch_alter_table('newsletters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_back_campaign_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_newsletters_report_back_campaign_id_campaigns'), 'campaigns', ['report_back_campaign_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('newsletters', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_newsletters_report_back_campaign_id_campaigns'), type_='foreignkey')
        batch_op.drop_column('report_back_campaign_id')

    op.drop_table('outcomes')
    op.drop_table('plan_targets')
    op.drop_table('campaign_strategies')
    op.drop_table('expenses')
