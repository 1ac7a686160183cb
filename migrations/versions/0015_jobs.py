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
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('message', sa.String(length=300), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('result_path', sa.String(length=300), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('run_after', legami.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lease_until', legami.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.Column('holder', sa.String(length=100), nullable=True),
    sa.Column('created_at', legami.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', legami.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', legami.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind <> ''", name=op.f('ck_jobs_kind_not_empty')),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_jobs_status')),
    sa.CheckConstraint("status <> 'running' OR (holder IS NOT NULL AND lease_until IS NOT NULL)", name=op.f('ck_jobs_running_leased')),
    sa.CheckConstraint('attempts >= 0 AND max_attempts >= 1', name=op.f('ck_jobs_attempts_ok')),
    sa.CheckConstraint('done >= 0 AND total >= 0', name=op.f('ck_jobs_progress_ok')),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_jobs_started_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_status_run_after', ['status', 'run_after'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_started_by_id'), ['started_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_started_by_id'))
        batch_op.drop_index('ix_jobs_status_run_after')

    op.drop_table('jobs')
