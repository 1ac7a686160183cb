"""Stripe events: parked events, gifts needing review, dated refunds

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 17:30:00

"""
from alembic import op
import sqlalchemy as sa

import legami.timeutil


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


STATUSES = "'pending', 'succeeded', 'failed', 'refunded', 'cancelled'"
REFUND_STATUSES = "'pending', 'requires_action', 'succeeded', 'failed', 'canceled'"


def upgrade():
    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stripe_paid_cents', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('stripe_paid_currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('parked_events', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.drop_constraint(op.f('ck_donations_status'), type_='check')
        batch_op.create_check_constraint('status', f"status IN ({STATUSES}, 'review')")
        batch_op.create_check_constraint(
            'review_says_what_was_paid',
            "status <> 'review' OR (stripe_paid_cents IS NOT NULL AND stripe_paid_currency IS NOT NULL)",
        )

    with op.batch_alter_table('recurring_gifts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_changed_at', legami.timeutil.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('currency', sa.String(length=3), server_default='EUR', nullable=False))
        batch_op.add_column(sa.Column('status', sa.String(length=20), server_default='succeeded', nullable=False))
        batch_op.add_column(sa.Column('ended_at', legami.timeutil.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint('status', f"status IN ({REFUND_STATUSES})")

    with op.batch_alter_table('payment_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=10), server_default='applied', nullable=False))
        batch_op.add_column(sa.Column('awaits', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('occurred_at', legami.timeutil.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint('state', "state IN ('applied', 'ignored', 'parked')")
        batch_op.create_index(batch_op.f('ix_payment_events_awaits'), ['awaits'], unique=False)
    # Events stored before states existed: those that did nothing were ignored.
    op.execute("UPDATE payment_events SET state = 'ignored' WHERE outcome LIKE 'ignored%'")


def downgrade():
    with op.batch_alter_table('payment_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_events_awaits'))
        batch_op.drop_constraint(op.f('ck_payment_events_state'), type_='check')
        batch_op.drop_column('occurred_at')
        batch_op.drop_column('awaits')
        batch_op.drop_column('state')

    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_refunds_status'), type_='check')
        batch_op.drop_column('ended_at')
        batch_op.drop_column('status')
        batch_op.drop_column('currency')

    with op.batch_alter_table('recurring_gifts', schema=None) as batch_op:
        batch_op.drop_column('status_changed_at')

    # Gifts waiting for review go back to pending, the state the old schema gave them.
    op.execute("UPDATE donations SET status = 'pending' WHERE status = 'review'")
    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_donations_review_says_what_was_paid'), type_='check')
        batch_op.drop_constraint(op.f('ck_donations_status'), type_='check')
        batch_op.create_check_constraint('status', f"status IN ({STATUSES})")
        batch_op.drop_column('parked_events')
        batch_op.drop_column('stripe_paid_currency')
        batch_op.drop_column('stripe_paid_cents')
