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


KINDS = "'single', 'annual', 'summary'"
OLD_KINDS = "'single', 'annual'"


def upgrade():
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_receipts_kind'), type_='check')
        batch_op.drop_constraint(op.f('ck_receipts_single_has_donation'), type_='check')
        batch_op.alter_column('number', existing_type=sa.Integer(), nullable=True)
        batch_op.create_check_constraint('kind', f"kind IN ({KINDS})")
        batch_op.create_check_constraint(
            'single_has_donation', "kind <> 'single' OR donation_id IS NOT NULL"
        )
        batch_op.create_check_constraint(
            'numbered_unless_summary', "(kind = 'summary') = (number IS NULL)"
        )

    with op.batch_alter_table('receipt_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seal_certificate', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('seal_subject', sa.String(length=300), server_default='', nullable=False))
        batch_op.add_column(sa.Column('tsa_url', sa.String(length=300), server_default='', nullable=False))

    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trace_reference', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('cheque_bank', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('joint_donor_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_donations_joint_donor_id'), ['joint_donor_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_donations_joint_donor_id_donors'), 'donors', ['joint_donor_id'], ['id'])
        batch_op.create_check_constraint('joint_donor_is_another', 'joint_donor_id <> donor_id')

    op.create_table('receipt_archive_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', legami.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', legami.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.Column('files_checked', sa.Integer(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.CheckConstraint('files_checked >= 0', name=op.f('ck_receipt_archive_checks_files_checked_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipt_archive_checks'))
    )
    with op.batch_alter_table('receipt_archive_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipt_archive_checks_started_at'), ['started_at'], unique=False)


def downgrade():
    with op.batch_alter_table('receipt_archive_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipt_archive_checks_started_at'))
    op.drop_table('receipt_archive_checks')

    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_donations_joint_donor_is_another'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_donations_joint_donor_id_donors'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_donations_joint_donor_id'))
        batch_op.drop_column('joint_donor_id')
        batch_op.drop_column('cheque_bank')
        batch_op.drop_column('trace_reference')

    with op.batch_alter_table('receipt_settings', schema=None) as batch_op:
        batch_op.drop_column('tsa_url')
        batch_op.drop_column('seal_subject')
        batch_op.drop_column('seal_certificate')

    # Summaries are not receipts: the old schema has no place for them.
    op.execute("DELETE FROM receipt_gifts WHERE receipt_id IN (SELECT id FROM receipts WHERE kind = 'summary')")
    op.execute("DELETE FROM receipts WHERE kind = 'summary'")
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_receipts_numbered_unless_summary'), type_='check')
        batch_op.drop_constraint(op.f('ck_receipts_kind'), type_='check')
        batch_op.drop_constraint(op.f('ck_receipts_single_has_donation'), type_='check')
        batch_op.alter_column('number', existing_type=sa.Integer(), nullable=False)
        batch_op.create_check_constraint('kind', f"kind IN ({OLD_KINDS})")
        batch_op.create_check_constraint(
            'single_has_donation', "kind = 'annual' OR donation_id IS NOT NULL"
        )
