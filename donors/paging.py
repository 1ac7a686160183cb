"""Pages of result rows (several columns each), for listings that are not one entity."""

from flask_sqlalchemy.pagination import SelectPagination

from legami.extensions import db


class RowsPagination(SelectPagination):
    """Like `db.paginate`, but its items are whole rows, not the first column of each."""

    def _query_items(self) -> list:
        select = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return list(self._query_args["session"].execute(select).all())


def paginate_rows(select, per_page: int) -> RowsPagination:
    """This request's page (`?page=`) of the rows of `select`; a page past the end is empty."""
    return RowsPagination(
        select=select, session=db.session, per_page=per_page, max_per_page=per_page, error_out=False
    )
