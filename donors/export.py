"""The donor export: all donors or a segment's, as CSV or XLSX, with their giving figures.

Rows are read from the database in batches and written as they come (the CSV streams; the
XLSX is written by openpyxl's write-only workbook), so a large export holds no list of donors
in memory. Text that a spreadsheet would read as a formula is escaped in both formats.
"""

from collections.abc import Iterator
from typing import IO

from sqlalchemy import select

from donors import segments
from donors.giving_figures import GIFT, summary_columns
from donors.models import Donor, Segment, Tag, donor_tags
from legami import audit
from legami.csv_export import XLSX_TYPE as XLSX_TYPE
from legami.csv_export import iter_csv
from legami.csv_export import write_xlsx as write_sheet
from legami.extensions import db
from legami.models import User
from legami.money import cents_to_decimal
from legami.timeutil import today_rome
from payments.models import Donation

HEADER = [
    "id",
    "kind",
    "first_name",
    "last_name",
    "organisation_name",
    "email",
    "phone",
    "street",
    "postal_code",
    "town",
    "province",
    "country",
    "codice_fiscale",
    "partita_iva",
    "language",
    "newsletter_consent",
    "tags",
    "lifetime_total_eur",
    "gift_count",
    "last_gift_on",
]
BATCH = 1000


def rows(definition: dict) -> Iterator[list]:
    """One list of typed values per matching donor (numbers, dates, text), by name."""
    found = segments.matching(definition)
    in_segment = Donation.donor_id.in_(select(found.c.id))
    figures = (
        select(Donation.donor_id, *summary_columns())
        .where(GIFT, in_segment)
        .group_by(Donation.donor_id)
        .subquery()
    )
    tags = _tags(select(found.c.id))
    result = db.session.execute(
        select(Donor, figures.c.total_cents, figures.c.gift_count, figures.c.last_gift_on)
        .join(found, found.c.id == Donor.id)
        .outerjoin(figures, figures.c.donor_id == Donor.id)
        .order_by(Donor.name_key, Donor.id)
        .execution_options(yield_per=BATCH)
    )
    for donor, total_cents, gift_count, last_gift_on in result:
        yield [
            donor.id,
            donor.kind,
            donor.first_name,
            donor.last_name,
            donor.organisation_name,
            donor.email,
            donor.phone,
            donor.street,
            donor.postal_code,
            donor.town,
            donor.province,
            donor.country,
            donor.codice_fiscale or "",
            donor.partita_iva or "",
            donor.language,
            "yes" if donor.newsletter_consent else "no",
            ", ".join(tags.get(donor.id, [])),
            cents_to_decimal(total_cents or 0),
            gift_count or 0,
            last_gift_on,
        ]


def _tags(donor_ids) -> dict[int, list[str]]:
    """The tag names of these donors, in one query."""
    names: dict[int, list[str]] = {}
    for donor_id, name in db.session.execute(
        select(donor_tags.c.donor_id, Tag.name)
        .join(Tag, Tag.id == donor_tags.c.tag_id)
        .where(donor_tags.c.donor_id.in_(donor_ids))
        .order_by(donor_tags.c.donor_id, Tag.name)
    ):
        names.setdefault(donor_id, []).append(name)
    return names


def csv_chunks(definition: dict) -> Iterator[str]:
    return iter_csv(HEADER, rows(definition))


def write_xlsx(definition: dict, out: IO[bytes]) -> None:
    write_sheet("Donors", HEADER, rows(definition), out)


def filename(segment: Segment | None, fmt: str) -> str:
    what = f"segment-{segment.id}" if segment else "donors"
    return f"{what}-{today_rome().isoformat()}.{fmt}"


def record(user: User, segment: Segment | None, fmt: str) -> None:
    """The audit log entry of an export of personal data; committed before the file is made."""
    definition = segment.definition if segment else {}
    audit.record(
        user,
        "donors.export",
        f"segment:{segment.id}" if segment else "donors",
        format=fmt,
        rows=segments.count(definition),
        segment=segment.name if segment else None,
    )
    db.session.commit()
