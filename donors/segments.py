"""Segments: saved filters over donors, each compiled to one SQL query.

A definition is a JSON object whose keys are criteria; a donor matches when all hold:

    tags                [tag ids]      has any of these tags
    campaigns           [ids]          gave to any of these campaigns
    pacts, labs         [ids]          gave to a campaign that funds any of them
    organisations       [ids]          gave to a campaign of any of these organisations
    first_gift          {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}  (either bound alone too)
    last_gift           {"from": ..., "to": ...}
    total               {"min_cents": int, "max_cents": int, "year_from": int, "year_to": int}
    gifts               {"min": int, "max": int, "year_from": int, "year_to": int}
    monthly             true: has an active monthly gift; false: has none
    lybunt              year Y: gave in Y-1, not in Y
    sybunt              year Y: gave in some year before Y, not in Y
    newsletter_consent  true / false
    languages           [codes]        any of these
    towns               [names]        any of these, case- and accent-insensitive
    fundraiser          true: opened a confirmed personal fundraising page; false: none
    raised_through_pages {"min_cents": int}  their pages raised at least this (soft credit)
    gave_through_page_of [donor ids]   gave through a page of any of these fundraisers

Gifts are succeeded donations only, dated by the day they were received (Europe/Rome);
totals are net of refunds. A total or count without a minimum also matches donors who gave
nothing in those years. Erased donors never match. The criteria by year (total, gifts,
lybunt, sybunt) read the same gifts summed per donor and year (DonorYearTotal), not the
donations.

Each criterion is a membership test (`id IN (...)`, `NOT EXISTS (...)`) that PostgreSQL plans
as a semi- or anti-join, so the query stays flat however many criteria a segment has.
"""

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import CTE, ColumnElement, Select, exists, false, func, literal, select
from sqlalchemy.orm import selectinload

from campaigns.models import campaign_labs, campaign_pacts
from donors import soft_credits
from donors.giving_figures import GIFT
from donors.models import Donor, DonorYearTotal, Segment, donor_tags, fold
from legami import params
from legami.extensions import db
from legami.models import User
from legami.validation import Invalid
from payments.models import Donation, RecurringGift, RecurringStatus

MIN_YEAR, MAX_YEAR = params.YEAR.low, params.YEAR.high
ID_LISTS = ("tags", "campaigns", "pacts", "labs", "organisations", "gave_through_page_of")
DATE_RANGES = ("first_gift", "last_gift")
AGGREGATES = {"total": ("min_cents", "max_cents"), "gifts": ("min", "max")}
FLAGS = ("monthly", "newsletter_consent", "fundraiser")
YEARS = ("lybunt", "sybunt")
TEXT_LISTS = {"languages": 5, "towns": 100}
SOFT_CREDITS = ("raised_through_pages",)
CRITERIA = (*ID_LISTS, *DATE_RANGES, *AGGREGATES, *FLAGS, *YEARS, *TEXT_LISTS, *SOFT_CREDITS)


class InvalidDefinition(Invalid):
    """A definition that is not a valid segment; `errors` maps `criterion[.part]` to why."""


# --- validation -----------------------------------------------------------------------------


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _year(value, where: str, errors: dict):
    if value is None:
        return None
    if not _is_int(value) or not MIN_YEAR <= value <= MAX_YEAR:
        errors[where] = _l("Give a year between %(a)s and %(b)s.", a=MIN_YEAR, b=MAX_YEAR)
        return None
    return value


def _parts(value, key: str, allowed: tuple[str, ...], errors: dict) -> dict | None:
    if not isinstance(value, dict):
        errors[key] = _l("Must be an object with %(keys)s.", keys=", ".join(allowed))
        return None
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        errors[key] = _l("Unknown parts: %(keys)s.", keys=", ".join(unknown))
        return None
    return {k: v for k, v in value.items() if v is not None}


def _ids(value, key: str, errors: dict) -> list[int]:
    if not isinstance(value, list) or not all(
        _is_int(i) and params.ID.low <= i <= params.ID.high for i in value
    ):
        errors[key] = _l("Must be a list of ids.")
        return []
    return sorted(set(value))


def _texts(value, key: str, max_length: int, errors: dict) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        errors[key] = _l("Must be a list of text values.")
        return []
    texts = sorted({t.strip() for t in value if t.strip()})
    if any(len(t) > max_length for t in texts):
        errors[key] = _l("At most %(n)s characters each.", n=max_length)
    return texts


def _date_range(value, key: str, errors: dict) -> dict:
    parts = _parts(value, key, ("from", "to"), errors)
    if parts is None:
        return {}
    days = {}
    for bound, text in parts.items():
        try:
            days[bound] = date.fromisoformat(text) if isinstance(text, str) else None
        except ValueError:
            days[bound] = None
        if days[bound] is None:
            errors[f"{key}.{bound}"] = _l("Give a date as YYYY-MM-DD.")
    if days.get("from") and days.get("to") and days["from"] > days["to"]:
        errors[f"{key}.to"] = _l("The end comes before the start.")
    return {bound: day.isoformat() for bound, day in days.items() if day}


def _aggregate(value, key: str, errors: dict) -> dict:
    low, high = AGGREGATES[key]
    parts = _parts(value, key, (low, high, "year_from", "year_to"), errors)
    if not parts:
        return {}
    clean = {}
    for bound in (low, high):
        if bound in parts:
            if _is_int(parts[bound]) and 0 <= parts[bound] <= params.COUNT.high:
                clean[bound] = parts[bound]
            else:
                errors[f"{key}.{bound}"] = _l(
                    "Must be a whole number from 0 to %(max)s.", max=params.COUNT.high
                )
    for bound in ("year_from", "year_to"):
        year = _year(parts.get(bound), f"{key}.{bound}", errors)
        if year is not None:
            clean[bound] = year
    if low not in parts and high not in parts:
        errors[key] = _l("Give a minimum, a maximum or both.")
    if clean.get(low, 0) > clean.get(high, clean.get(low, 0)):
        errors[f"{key}.{high}"] = _l("The maximum is below the minimum.")
    if clean.get("year_from", MIN_YEAR) > clean.get("year_to", MAX_YEAR):
        errors[f"{key}.year_to"] = _l("The end comes before the start.")
    if clean.get(low) == 0:
        del clean[low]  # the same as no minimum
    return clean if low in clean or high in clean else {}


def validate(definition) -> dict:
    """The definition in its canonical form (empty criteria dropped, lists sorted), or
    InvalidDefinition naming each bad part."""
    if not isinstance(definition, dict):
        raise InvalidDefinition({"definition": _l("A segment definition is a JSON object.")})
    errors: dict = {}
    unknown = sorted(set(definition) - set(CRITERIA))
    if unknown:
        errors["definition"] = _l("Unknown criteria: %(keys)s.", keys=", ".join(unknown))
    clean: dict = {}
    for key in CRITERIA:
        value = definition.get(key)
        if value is None or value == [] or value == {}:
            continue
        if key in ID_LISTS:
            clean[key] = _ids(value, key, errors)
        elif key in DATE_RANGES:
            clean[key] = _date_range(value, key, errors)
        elif key in AGGREGATES:
            clean[key] = _aggregate(value, key, errors)
        elif key in FLAGS:
            if not isinstance(value, bool):
                errors[key] = _l("Must be true or false.")
            clean[key] = value
        elif key in YEARS:
            if value := _year(value, key, errors):
                clean[key] = value
        elif key in SOFT_CREDITS:
            clean[key] = soft_credits.validate_minimum(value, key, errors)
        else:
            clean[key] = _texts(value, key, TEXT_LISTS[key], errors)
    if errors:
        raise InvalidDefinition(errors)
    return {key: value for key, value in clean.items() if value not in ([], {})}


# --- compilation ----------------------------------------------------------------------------


def _gifts(*where) -> Select:
    """Donor ids of succeeded gifts meeting `where`."""
    return select(Donation.donor_id).where(GIFT, *where)


def _giving_years(*where) -> Select:
    """Donor ids of the years with a gift meeting `where` (a year whose gifts were all
    refunded keeps a row of zero gifts)."""
    return select(DonorYearTotal.donor_id).where(DonorYearTotal.gifts > 0, *where)


def _among(donor_ids: Select) -> ColumnElement[bool]:
    return Donor.id.in_(donor_ids)


def _not_among(donor_ids: Select) -> ColumnElement[bool]:
    """NOT EXISTS rather than NOT IN: PostgreSQL makes it an anti-join at any size, where a
    NOT IN list larger than work_mem would be searched row by row."""
    found = donor_ids.subquery()
    return ~exists(select(literal(1)).select_from(found).where(found.c.donor_id == Donor.id))


def _between(bounds: dict) -> list[ColumnElement[bool]]:
    where = []
    if "from" in bounds:
        where.append(Donation.received_on >= date.fromisoformat(bounds["from"]))
    if "to" in bounds:
        where.append(Donation.received_on <= date.fromisoformat(bounds["to"]))
    return where


def _first_gift(bounds: dict) -> list[ColumnElement[bool]]:
    where = [_among(_gifts(*_between(bounds)))]
    if "from" in bounds:
        where.append(_not_among(_gifts(Donation.received_on < date.fromisoformat(bounds["from"]))))
    return where


def _last_gift(bounds: dict) -> list[ColumnElement[bool]]:
    where = [_among(_gifts(*_between(bounds)))]
    if "to" in bounds:
        where.append(_not_among(_gifts(Donation.received_on > date.fromisoformat(bounds["to"]))))
    return where


def _aggregate_criterion(key: str, parts: dict) -> ColumnElement[bool]:
    """Sum or count within the years, between the bounds; no minimum admits non-givers."""
    low_key, high_key = AGGREGATES[key]
    measure = func.sum(DonorYearTotal.net_cents if key == "total" else DonorYearTotal.gifts)
    years = []
    if "year_from" in parts:
        years.append(DonorYearTotal.year >= parts["year_from"])
    if "year_to" in parts:
        years.append(DonorYearTotal.year <= parts["year_to"])
    per_donor = select(DonorYearTotal.donor_id).where(*years).group_by(DonorYearTotal.donor_id)
    low, high = parts.get(low_key, 0), parts.get(high_key)
    if low > 0:
        having = [measure >= low] + ([measure <= high] if high is not None else [])
        return _among(per_donor.having(*having))
    return _not_among(per_donor.having(measure > high))


def _town_spellings(towns: list[str]) -> list[str]:
    """The spellings in use that fold to one of `towns` (`Cremona`, `CREMONA`, `Crémona`):
    folding is Unicode-aware in Python and not in SQLite, so it is resolved here."""
    wanted = {fold(t) for t in towns}
    used = db.session.scalars(select(Donor.town).distinct().where(Donor.town != ""))
    return sorted(t for t in used if fold(t) in wanted)


def _conditions(definition: dict) -> list[ColumnElement[bool]]:
    d = validate(definition)
    where: list[ColumnElement[bool]] = [Donor.erased_at.is_(None)]
    if "tags" in d:
        where.append(
            _among(select(donor_tags.c.donor_id).where(donor_tags.c.tag_id.in_(d["tags"])))
        )
    if "campaigns" in d:
        where.append(_among(_gifts(Donation.campaign_id.in_(d["campaigns"]))))
    for key, link, column in (
        ("pacts", campaign_pacts, campaign_pacts.c.pact_id),
        ("labs", campaign_labs, campaign_labs.c.lab_id),
    ):
        if key in d:
            campaigns = select(link.c.campaign_id).where(column.in_(d[key]))
            where.append(_among(_gifts(Donation.campaign_id.in_(campaigns))))
    if "organisations" in d:
        where.append(_among(_gifts(Donation.organisation_id.in_(d["organisations"]))))
    if "first_gift" in d:
        where += _first_gift(d["first_gift"])
    if "last_gift" in d:
        where += _last_gift(d["last_gift"])
    for key in AGGREGATES:
        if key in d:
            where.append(_aggregate_criterion(key, d[key]))
    if "monthly" in d:
        active = select(RecurringGift.donor_id).where(
            RecurringGift.status == RecurringStatus.ACTIVE
        )
        where.append(_among(active) if d["monthly"] else _not_among(active))
    if "lybunt" in d:
        where.append(_among(_giving_years(DonorYearTotal.year == d["lybunt"] - 1)))
        where.append(_not_among(_giving_years(DonorYearTotal.year == d["lybunt"])))
    if "sybunt" in d:
        where.append(_among(_giving_years(DonorYearTotal.year < d["sybunt"])))
        where.append(_not_among(_giving_years(DonorYearTotal.year == d["sybunt"])))
    if "newsletter_consent" in d:
        where.append(Donor.newsletter_consent.is_(d["newsletter_consent"]))
    if "languages" in d:
        where.append(Donor.language.in_(d["languages"]))
    if "towns" in d:
        spellings = _town_spellings(d["towns"])
        where.append(Donor.town.in_(spellings) if spellings else false())
    if "fundraiser" in d:
        owners = soft_credits.fundraisers()
        where.append(_among(owners) if d["fundraiser"] else _not_among(owners))
    if "raised_through_pages" in d:
        where.append(_among(soft_credits.raised_at_least(d["raised_through_pages"]["min_cents"])))
    if "gave_through_page_of" in d:
        where.append(_among(soft_credits.gave_through_pages_of(d["gave_through_page_of"])))
    return where


# --- the functions others call --------------------------------------------------------------


def matching(definition: dict) -> CTE:
    """The matching donors' ids and sort keys, computed once before any ORDER BY or LIMIT:
    otherwise PostgreSQL may walk the name index and test the criteria donor by donor,
    which takes minutes when few donors match."""
    return (
        select(Donor.id, Donor.name_key)
        .where(*_conditions(definition))
        .cte("matching")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )


def compile(definition: dict) -> Select:
    """One SELECT of the matching donors, ordered by name; InvalidDefinition if it is bad."""
    found = matching(definition)
    return select(Donor).join(found, found.c.id == Donor.id).order_by(Donor.name_key, Donor.id)


def count(definition: dict) -> int:
    return db.session.scalar(select(func.count(Donor.id)).where(*_conditions(definition)))


@dataclass(frozen=True)
class DonorPage:
    items: list[Donor]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return -(-self.total // self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def page(definition: dict, page: int, per_page: int) -> DonorPage:
    """One page of matching donors by name, and how many match in all, in one statement.

    The matching set is computed once: the page's ids are picked from it before any donor
    row is read, and it is counted in the same statement.
    """
    found = matching(definition)
    window = (
        select(found.c.id)
        .order_by(found.c.name_key, found.c.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    total = select(func.count()).select_from(found).scalar_subquery()
    rows = db.session.execute(
        select(Donor, total)
        .where(Donor.id.in_(window))
        .options(selectinload(Donor.tags))
        .order_by(Donor.name_key, Donor.id)
    ).all()
    if rows:
        return DonorPage([row[0] for row in rows], page, per_page, rows[0][1])
    return DonorPage([], page, per_page, count(definition) if page > 1 else 0)


def donor_ids(segment: Segment) -> Select:
    """A SELECT of the ids of the segment's donors, to run or to use in `Donor.id.in_()`."""
    return select(Donor.id).where(*_conditions(segment.definition))


# --- saved segments -------------------------------------------------------------------------


def save(
    segment: Segment | None, name: str, description: str, definition: dict, user: User | None
) -> Segment:
    """Create (segment None) or change a saved segment; Invalid stores nothing."""
    errors: dict = {}
    name = (name or "").strip()
    description = (description or "").strip()
    if not name:
        errors["name"] = _l("Give the segment a name.")
    elif len(name) > 120:
        errors["name"] = _l("At most %(n)s characters.", n=120)
    else:
        clash = db.session.scalar(select(Segment).where(Segment.name == name))
        if clash is not None and clash is not segment:
            errors["name"] = _l("Another segment has this name.")
    if len(description) > 500:
        errors["description"] = _l("At most %(n)s characters.", n=500)
    try:
        clean = validate(definition)
    except InvalidDefinition as invalid:
        errors.update(invalid.errors)
    if errors:
        raise Invalid(errors)
    if segment is None:
        segment = Segment(created_by_id=user.id if user else None)
        db.session.add(segment)
    segment.name, segment.description, segment.definition = name, description, clean
    db.session.commit()
    return segment


def delete(segment: Segment) -> None:
    db.session.delete(segment)
    db.session.commit()
