"""The order of every list: the requested ordering, then ``id`` ascending as the tie-breaker.

Camunda leaves the order of rows with equal sort values open; we break ties by ``id`` so that
consecutive pages never overlap or skip a row (spec B.1.6 plus our tie-breaker). The SQL
(``app.services.sql.order_by_columns``) and the page token that names a position in that order
(``schemas.job_page``) both read it from here, so they cannot disagree.
"""


def with_tie_breaker(ordering):
    """``[(column, "asc"|"desc")]`` with ``("id", "asc")`` appended unless ``id`` is in it
    already; an empty ordering is the default order, ``id`` ascending."""
    columns = list(ordering or ())
    if "id" not in [name for name, _ in columns]:
        columns.append(("id", "asc"))
    return columns
