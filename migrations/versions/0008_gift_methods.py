"""gift methods, amounts and what the giver typed

Explicit payment methods replace 'other' (its gifts become 'other_untraceable', and every
gift's deductible flag follows its method); the details typed on the gift form are kept
with the gift; differing details wait for staff as donor suggestions.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 17:30:00

"""
from alembic import op
import sqlalchemy as sa

import legami.timeutil


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


OLD_METHODS = "'card', 'bank_transfer', 'cash', 'cheque', 'other'"
METHODS = (
    "'card', 'bank_transfer', 'postal', 'paypal', 'satispay', 'cheque', 'cash', "
    "'other_untraceable'"
)
DEDUCTIBLE = "deductible = (method NOT IN ('cash', 'other_untraceable'))"


def upgrade():
    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_donations_method'), type_='check')
    # Nobody can say how an 'other' gift was paid: it gives no tax benefit, as the data set
    # for the tax return already treated it. Receipts issued before keep their wording.
    op.execute("UPDATE donations SET method = 'other_untraceable' WHERE method = 'other'")
    op.execute("UPDATE donations SET deductible = (method NOT IN ('cash', 'other_untraceable'))")
    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.create_check_constraint('method', f"method IN ({METHODS})")
        batch_op.create_check_constraint('deductible_by_method', DEDUCTIBLE)

    op.create_table('gift_details',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('donation_id', sa.Integer(), nullable=True),
    sa.Column('recurring_gift_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('organisation_name', sa.String(length=200), nullable=False),
    sa.Column('codice_fiscale', sa.String(length=16), nullable=True),
    sa.Column('partita_iva', sa.String(length=11), nullable=True),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.Column('postal_code', sa.String(length=10), nullable=False),
    sa.Column('town', sa.String(length=100), nullable=False),
    sa.Column('province', sa.String(length=2), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('applied_at', legami.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(donation_id IS NULL) <> (recurring_gift_id IS NULL)', name=op.f('ck_gift_details_one_gift')),
    sa.CheckConstraint("kind IN ('person', 'organisation')", name=op.f('ck_gift_details_kind')),
    sa.ForeignKeyConstraint(['donation_id'], ['donations.id'], name=op.f('fk_gift_details_donation_id_donations')),
    sa.ForeignKeyConstraint(['recurring_gift_id'], ['recurring_gifts.id'], name=op.f('fk_gift_details_recurring_gift_id_recurring_gifts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gift_details')),
    sa.UniqueConstraint('donation_id', name=op.f('uq_gift_details_donation_id')),
    sa.UniqueConstraint('recurring_gift_id', name=op.f('uq_gift_details_recurring_gift_id'))
    )

    op.create_table('donor_suggestions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('donor_id', sa.Integer(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', legami.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', legami.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name=op.f('ck_donor_suggestions_decided_unless_pending')),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'rejected')", name=op.f('ck_donor_suggestions_status')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_donor_suggestions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['donor_id'], ['donors.id'], name=op.f('fk_donor_suggestions_donor_id_donors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_donor_suggestions'))
    )
    with op.batch_alter_table('donor_suggestions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_donor_suggestions_donor_id'), ['donor_id'], unique=False)


def downgrade():
    with op.batch_alter_table('donor_suggestions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_donor_suggestions_donor_id'))
    op.drop_table('donor_suggestions')
    op.drop_table('gift_details')

    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_donations_deductible_by_method'), type_='check')
        batch_op.drop_constraint(op.f('ck_donations_method'), type_='check')
    # The old schema knew one word for every method it did not name.
    op.execute(
        "UPDATE donations SET method = 'other'"
        " WHERE method IN ('postal', 'paypal', 'satispay', 'other_untraceable')"
    )
    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.create_check_constraint('method', f"method IN ({OLD_METHODS})")
