"""Small SQL helpers shared by the services."""

from sqlalchemy import and_, any_, bindparam, false, func, literal_column, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import String

from app.core.ordering import with_tie_breaker
from app.core.text import is_storable
from app.extensions import db


def is_postgres():
    return db.session.get_bind().dialect.name == "postgresql"


def row_address(table):
    """PostgreSQL's ``ctid`` of ``table``'s rows: where a row version stands (page, item). Any
    update writes a new version elsewhere, so an address is a hint to be checked, not a key."""
    return literal_column(f"{table.name}.ctid")


def in_ids(column, ids):
    """``column = ANY(:ids)`` with the ids as ONE array parameter on PostgreSQL (one plan, no
    statement text that grows with the list); an expanding ``IN`` elsewhere."""
    ids = list(ids)
    if is_postgres():
        return column == any_(bindparam(None, ids, type_=ARRAY(String), unique=True))
    return column.in_(ids)


def order_by_columns(table, columns, nullable):
    """ORDER BY for ``[(column name, "asc"|"desc")]``: NULLs last ascending and first descending
    on every database (PostgreSQL's own placement, which Camunda clients see), then ``id`` as the
    tie-breaker so that pages never overlap (app.core.ordering). ``nullable``: the names that can
    hold NULL."""
    clauses = []
    for name, direction in with_tie_breaker(columns):
        column = table.c[name]
        clause = column.asc() if direction == "asc" else column.desc()
        if name in nullable:
            clause = clause.nulls_last() if direction == "asc" else clause.nulls_first()
        clauses.append(clause)
    return clauses


def after_row(table, keyset, nullable):
    """The rows strictly after a row in :func:`order_by_columns`' order, given that row's sort
    values ``keyset = [(column name, direction, value)]`` over the whole order (the keyset of a
    page token): (k1 after v1) OR (k1 = v1 AND k2 after v2) OR ..."""
    alternatives = []
    prefix = []
    for name, direction, value in keyset:
        column = table.c[name]
        after = _after_value(column, direction, value, name in nullable)
        alternatives.append(and_(*prefix, after) if prefix else after)
        prefix.append(column.is_(None) if value is None else column == value)
    return or_(*alternatives) if alternatives else true()


def _after_value(column, direction, value, nullable):
    """``column`` strictly after ``value`` in its order (NULLs last ascending, first descending)."""
    if direction == "asc":
        if value is None:
            return false()  # NULLs come last: nothing is after them but other NULLs
        return or_(column > value, column.is_(None)) if nullable else column > value
    if value is None:
        return column.isnot(None)  # NULLs come first in descending order
    return column < value


def equal_conditions(table, filters, columns_by_filter):
    """``column = value`` for each filter named in ``columns_by_filter`` (filter -> column) that
    ``filters`` has."""
    return [table.c[column] == filters[key] for key, column in columns_by_filter.items() if key in filters]


def tenant_condition(column, filters, include_without_tenant):
    """Camunda's tenant filters: ``without_tenant_id``, else ``tenant_id_in`` (with the rows
    without a tenant too when the filter named ``include_without_tenant`` is set; None: the
    resource has no such filter); None: no tenant filter."""
    if filters.get("without_tenant_id"):
        return column.is_(None)
    if "tenant_id_in" not in filters:
        return None
    in_list = column.in_(sorted(set(filters["tenant_id_in"])))
    include = include_without_tenant is not None and filters.get(include_without_tenant)
    return or_(in_list, column.is_(None)) if include else in_list


def paged(statement, first_result=None, max_results=None):
    """Camunda's ``firstResult`` / ``maxResults`` as OFFSET / LIMIT."""
    if first_result:
        statement = statement.offset(first_result)
    if max_results is not None:
        statement = statement.limit(max_results)
    return statement


def fetch_mappings(statement):
    return db.session.execute(statement).mappings().all()


def stream_mappings(statement, chunk_size=1000):
    """Yield rows through a server-side cursor, ``chunk_size`` per round trip: memory stays flat
    however many rows match."""
    result = db.session.execute(statement.execution_options(yield_per=chunk_size))
    try:
        yield from result.mappings()
    finally:
        result.close()


class RowQuery:
    """The reads of a resource that is one table: a page of its DTO ``columns`` (the first is
    ``id``), all of them streamed, or their count, for a query whose filters
    ``conditions(query)`` turns into WHERE conditions; ordered by ``query.ordering``; and one
    row by id (None for an id no row can have: text the database cannot store). ``computed``:
    labelled expressions selected after the columns (correlated counts, say). ``access``: a
    function of the caller's Authentication giving the conditions of the rows it may see
    (app.services.access); every read takes that ``authentication`` (None: no restriction)."""

    def __init__(self, table, columns, conditions, computed=(), access=None):
        self.table, self.columns, self.conditions, self.computed = table, columns, conditions, computed
        self.access = access
        self.nullable = set(columns) - {"id"}

    def _columns(self):
        return select(*[self.table.c[name] for name in self.columns], *self.computed)

    def _visible(self, authentication):
        if self.access is None or authentication is None:
            return []
        return self.access(authentication)

    def select(self, query, first_result=None, max_results=None, authentication=None):
        statement = (self._columns()
                     .where(*self.conditions(query), *self._visible(authentication))
                     .order_by(*order_by_columns(self.table, query.ordering, self.nullable)))
        return paged(statement, first_result, max_results)

    def get(self, row_id, authentication=None):
        if not is_storable(row_id):
            return None
        return db.session.execute(self._columns().where(self.table.c.id == row_id, *self._visible(authentication))
                                  ).mappings().first()

    def list(self, query, first_result=None, max_results=None, authentication=None):
        return fetch_mappings(self.select(query, first_result, max_results, authentication))

    def stream(self, query, first_result=None, chunk_size=1000, authentication=None):
        return stream_mappings(self.select(query, first_result, authentication=authentication), chunk_size)

    def count(self, query, authentication=None):
        return db.session.execute(select(func.count()).select_from(self.table)
                                  .where(*self.conditions(query), *self._visible(authentication))).scalar_one()
