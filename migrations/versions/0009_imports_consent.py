"""imports and consent: persons without a name, duplicate keys (swapped name, town, mailbox,
phone), import mappings say what their rows are

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 17:30:00

"""
from alembic import op
import sqlalchemy as sa

from donors.models import DERIVED_KEYS, KEYED_FIELDS, derived_keys


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

CHUNK = 2000


def _fill_keys():
    """Every existing donor's keys, as the model's event computes them."""
    connection = op.get_bind()
    donors = sa.table('donors', sa.column('id'), *(sa.column(f) for f in (*KEYED_FIELDS, *DERIVED_KEYS)))
    change = (
        sa.update(donors)
        .where(donors.c.id == sa.bindparam('donor_id'))
        .values({key: sa.bindparam(key) for key in DERIVED_KEYS})
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(donors.c.id, *(donors.c[f] for f in KEYED_FIELDS))
            .where(donors.c.id > last)
            .order_by(donors.c.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            return
        connection.execute(
            change, [{'donor_id': row.id, **derived_keys(row._asdict())} for row in rows]
        )
        last = rows[-1].id


def _row_status():
    """Mappings kept before 0009 said `consent_all`; they now say what the rows are."""
    connection = op.get_bind()
    jobs = sa.table('import_jobs', sa.column('id'), sa.column('mapping', sa.JSON()))
    for job_id, mapping in connection.execute(sa.select(jobs.c.id, jobs.c.mapping)).all():
        if not isinstance(mapping, dict) or 'status' in mapping:
            continue
        status = 'subscribed' if mapping.pop('consent_all', False) else 'rows'
        connection.execute(
            sa.update(jobs).where(jobs.c.id == job_id).values(mapping={**mapping, 'status': status})
        )


def upgrade():
    with op.batch_alter_table('donors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('swapped_name_key', sa.String(length=300), server_default='', nullable=False))
        batch_op.add_column(sa.Column('town_key', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('mailbox_key', sa.String(length=254), server_default='', nullable=False))
        batch_op.add_column(sa.Column('phone_key', sa.String(length=20), server_default='', nullable=False))
        batch_op.drop_constraint(op.f('ck_donors_has_name'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_donors_has_name'), "kind = 'person' OR organisation_name <> ''"
        )
    _fill_keys()
    _row_status()


def downgrade():
    nameless = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM donors WHERE kind = 'person' AND last_name = ''")
    )
    if nameless:
        raise RuntimeError(
            f'{nameless} persons have no last name (newsletter subscribers imported by address '
            'alone): give them one before going back to 0008, which requires it.'
        )
    with op.batch_alter_table('donors', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_donors_has_name'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_donors_has_name'),
            "(kind = 'person' AND last_name <> '') OR (kind = 'organisation' AND organisation_name <> '')",
        )
        batch_op.drop_column('phone_key')
        batch_op.drop_column('mailbox_key')
        batch_op.drop_column('town_key')
        batch_op.drop_column('swapped_name_key')
