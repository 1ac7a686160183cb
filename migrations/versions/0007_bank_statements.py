"""bank statements: currency, reversals, batch entries, payer dates

Statement lines gain where they were in their file, their direction (a reversal is a
debit), currency, the payer's date, the bank's references, a reason detail and the credit a
reversal takes back (at most once); imports keep their per-row notes; CSV mappings gain
Avere/Dare, value date and currency columns. Lines imported before keep their keys.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 17:30:00

"""
from alembic import op
import sqlalchemy as sa

import legami.timeutil


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bank_statements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notes', sa.JSON(), server_default='[]', nullable=False))

    with op.batch_alter_table('csv_mappings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credit_column', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('debit_column', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('value_date_column', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('currency_column', sa.String(length=100), server_default='', nullable=False))

    with op.batch_alter_table('statement_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('position', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('direction', sa.String(length=6), server_default='credit', nullable=False))
        batch_op.add_column(sa.Column('paid_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), server_default='EUR', nullable=False))
        batch_op.add_column(sa.Column('bank_reference', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('end_to_end_id', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('detail', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('reverses_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_statement_lines_reverses_id_statement_lines'), 'statement_lines', ['reverses_id'], ['id'])
        batch_op.create_unique_constraint('uq_statement_lines_reverses', ['reverses_id'])
        batch_op.create_index(batch_op.f('ix_statement_lines_donation_id'), ['donation_id'], unique=False)
        batch_op.drop_constraint(op.f('ck_statement_lines_status'), type_='check')
        batch_op.create_check_constraint('status', "status IN ('matched', 'unmatched', 'ignored', 'reversal')")
        batch_op.create_check_constraint('direction', "direction IN ('credit', 'debit')")
        batch_op.create_check_constraint('amount_positive', 'amount_cents > 0')
        batch_op.create_check_constraint('reversal_is_debit', "reverses_id IS NULL OR direction = 'debit'")


def downgrade():
    with op.batch_alter_table('statement_lines', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_statement_lines_reversal_is_debit'), type_='check')
        batch_op.drop_constraint(op.f('ck_statement_lines_amount_positive'), type_='check')
        batch_op.drop_constraint(op.f('ck_statement_lines_direction'), type_='check')
        batch_op.drop_constraint(op.f('ck_statement_lines_status'), type_='check')
        batch_op.create_check_constraint('status', "status IN ('matched', 'unmatched', 'ignored')")
        batch_op.drop_index(batch_op.f('ix_statement_lines_donation_id'))
        batch_op.drop_constraint('uq_statement_lines_reverses', type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_statement_lines_reverses_id_statement_lines'), type_='foreignkey')
        batch_op.drop_column('reverses_id')
        batch_op.drop_column('detail')
        batch_op.drop_column('end_to_end_id')
        batch_op.drop_column('bank_reference')
        batch_op.drop_column('currency')
        batch_op.drop_column('paid_on')
        batch_op.drop_column('direction')
        batch_op.drop_column('position')

    with op.batch_alter_table('csv_mappings', schema=None) as batch_op:
        batch_op.drop_column('currency_column')
        batch_op.drop_column('value_date_column')
        batch_op.drop_column('debit_column')
        batch_op.drop_column('credit_column')

    with op.batch_alter_table('bank_statements', schema=None) as batch_op:
        batch_op.drop_column('notes')
