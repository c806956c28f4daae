"""The preview of a set-retries request (``POST /job/retries/preview``, A20): what the batch
would select, written nowhere.

The selection is the one app.services.batches.set_job_retries.selection builds for the batch
itself, so whatever narrows that selection narrows the preview too. The answer: how many jobs
exist in it, the explicit ids that match no job, the 20 most frequent exception messages,
activities, job definitions and tenants with their counts, and a few job ids.

On PostgreSQL the four breakdowns and the count are ONE statement reading the selection once:
``GROUP BY GROUPING SETS`` aggregates two pairs of the columns side by side in hash tables,
over two ranges of the table's pages that PostgreSQL scans in parallel (it never parallelises
one GROUPING SETS scan); the pairs' groups are summed per column, and a top-N sort keeps each
breakdown's 20 largest groups in the database.
SQLite, which has no grouping sets, runs one ``GROUP BY ... ORDER BY count DESC LIMIT 20`` per
breakdown.
"""

import json

from sqlalchemy import (
    String,
    and_,
    bindparam,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
    tuple_,
    union_all,
)

from app.core.errors import InvalidRequest
from app.extensions import db
from app.models.job import JOB_BREAKDOWN_PAIRS
from app.models.tables import job_table
from app.services.batches.set_job_retries import NEGATIVE_RETRIES, authorize, element_conditions, selection
from app.services.sql import in_ids, is_postgres, row_address

TOP = 20
SAMPLES = 10
# Answer key -> the job column it counts.
BREAKDOWNS = (
    ("byExceptionMessage", "exception_message"),
    ("byActivityId", "activity_id"),
    ("byJobDefinitionId", "job_definition_id"),
    ("byTenantId", "tenant_id"),
)
# PostgreSQL groups the four columns in two pairs and sums each pair's groups per column: one
# hash lookup per pair and job instead of one per column. A message mostly occurs in few
# tenants and a job definition belongs to one activity, so a pair has about as many groups as
# its larger column (extended statistics tell the planner so, migration 0015).
GROUPED_PAIRS = tuple(JOB_BREAKDOWN_PAIRS.values())


def _in_explicit_ids(column, ids):
    """``column`` among the explicit ids, sent as one parameter on every database (an array on
    PostgreSQL; a JSON text read by ``json_each`` on SQLite, which limits bound variables)."""
    if is_postgres():
        return in_ids(column, ids)
    values = func.json_each(bindparam(None, value=json.dumps(list(ids)), unique=True)).table_valued("value")
    return column.in_(select(values.c.value))


def _condition(chosen):
    """The selection as one WHERE condition on the job table."""
    c = job_table.c
    parts = []
    if chosen.ids:
        parts.append(_in_explicit_ids(c.id, chosen.ids))
    if chosen.query is not None:
        froms = chosen.query.get_final_froms()
        if len(froms) == 1 and froms[0] is job_table:
            # A SELECT id FROM job WHERE ...: its conditions apply directly (no self-join).
            where = chosen.query.whereclause
            parts.append(where if where is not None else true())
        else:
            parts.append(c.id.in_(chosen.query))
    return or_(*parts) if parts else false()


def _order(column, count):
    """Largest first; ties by value, NULL last, on every database."""
    return [count.desc(), column.is_(None), column]


# The selection is scanned in this many parts, each a range of the job table's pages: PostgreSQL
# never runs GROUPING SETS in parallel, but it runs the parts of a UNION ALL side by side
# (Parallel Append), one process each, and sums their groups.
SCAN_PARTS = 2
# Below this many pages one scan is cheaper than starting parallel workers.
SPLIT_MIN_PAGES = 128


def _page_ranges():
    """``ctid`` conditions splitting the job table into SCAN_PARTS ranges of pages, from the
    planner's page count (the last range is open-ended, so a stale count never loses a row)."""
    pages = db.session.execute(text("SELECT relpages FROM pg_class WHERE oid = 'job'::regclass")).scalar() or 0
    ctid = row_address(job_table)
    if SCAN_PARTS < 2 or pages < max(SPLIT_MIN_PAGES, SCAN_PARTS):
        return [true()]
    bounds = [literal_column(f"'({pages * part // SCAN_PARTS},0)'::tid") for part in range(1, SCAN_PARTS)]
    ranges = [ctid < bounds[0]]
    ranges += [and_(ctid >= low, ctid < high) for low, high in zip(bounds, bounds[1:])]
    return ranges + [ctid >= bounds[-1]]


def _grouping_id(grouped):
    """The value of ``grouping(<the BREAKDOWNS columns>)`` in the rows of the set ``grouped``: a
    bit for each column NOT grouped, the first column the highest bit."""
    names = [name for _, name in BREAKDOWNS]
    return sum(1 << (len(names) - 1 - index) for index, name in enumerate(names) if name not in grouped)


def _breakdowns_grouping_sets(where):
    """PostgreSQL: ``{key: [(value, count)]}`` and the count, from one scan of the selection.

    Each range of pages is aggregated by ``GROUP BY GROUPING SETS`` over the column pairs of
    GROUPED_PAIRS (two hash tables side by side), the parts' groups are summed per column, and
    each breakdown takes its 20 largest groups with a top-N sort (no full sort, even when every
    job has a message of its own); the count is the sum of one column's groups.
    """
    columns = [job_table.c[name] for _, name in BREAKDOWNS]
    parts = union_all(*[
        select(func.grouping(*columns).label("grouping_id"), *columns, func.count().label("n"))
        .where(where, pages)
        .group_by(func.grouping_sets(*[tuple_(*[job_table.c[name] for name in pair]) for pair in GROUPED_PAIRS]))
        for pages in _page_ranges()]).cte("parts")
    # Each breakdown sums the groups of the pair that holds its column over the other column.
    pair_of = {name: pair for pair in GROUPED_PAIRS for name in pair}
    per_column = union_all(*[
        select(literal(index).label("breakdown"), parts.c[name].label("value"), parts.c.n)
        .where(parts.c.grouping_id == _grouping_id(pair_of[name]))
        for index, (_, name) in enumerate(BREAKDOWNS)]).subquery("per_column")
    sets = (select(per_column.c.breakdown, per_column.c.value, func.sum(per_column.c.n).label("n"))
            .group_by(per_column.c.breakdown, per_column.c.value).cte("sets"))
    branches = []
    for index, _ in enumerate(BREAKDOWNS):
        top = (select(sets.c.breakdown, sets.c.value, sets.c.n)
               .where(sets.c.breakdown == index).order_by(*_order(sets.c.value, sets.c.n)).limit(TOP)
               .subquery(f"top_{index}"))
        # The order again over the 20 rows, as a column: a UNION ALL keeps no order of its own.
        rank = func.row_number().over(order_by=_order(top.c.value, top.c.n)).label("rank")
        branches.append(select(top.c.breakdown, top.c.value, top.c.n, rank))
    total = select(literal(-1).label("breakdown"), literal(None, String).label("value"),
                   func.coalesce(func.sum(sets.c.n), 0).label("n"), literal(0).label("rank")
                   ).where(sets.c.breakdown == len(BREAKDOWNS) - 1)
    both = union_all(*branches, total).subquery("breakdowns")
    result = {key: [] for key, _ in BREAKDOWNS}
    count = 0
    statement = select(both.c.breakdown, both.c.value, both.c.n).order_by(both.c.breakdown, both.c.rank)
    for breakdown, value, n in db.session.execute(statement):
        if breakdown < 0:
            count = int(n)
        else:
            result[BREAKDOWNS[breakdown][0]].append((value, int(n)))
    return result, count


def _breakdowns_one_by_one(where):
    result = {}
    for key, name in BREAKDOWNS:
        column = job_table.c[name]
        count = func.count().label("n")
        statement = select(column, count).where(where).group_by(column).order_by(*_order(column, count)).limit(TOP)
        result[key] = [(row[0], row[1]) for row in db.session.execute(statement)]
    total = db.session.execute(select(func.count()).select_from(job_table).where(where)).scalar_one()
    return result, total


def preview_set_retries(request, authentication=None):
    """The preview document (JSON names) of a loaded set-retries request; reads only.

    The request's checks are those of the batch, except that an empty selection is an answer
    (``count`` 0), not a 400. For a restricted caller the selection is the one its batch would
    work on (A16): an explicit id it may see but not update is a 403, as for the batch, and a
    job it may not see is reported missing, as an unknown id is.
    """
    if request.retries < 0:
        raise InvalidRequest(NEGATIVE_RETRIES)
    chosen = authorize(request, selection(request), authentication)
    allowed = element_conditions(authentication)  # none without a restricted caller
    where = and_(_condition(chosen), *allowed)
    c = job_table.c
    try:
        missing = []
        if chosen.ids:
            found = set(db.session.execute(
                select(c.id).where(_in_explicit_ids(c.id, chosen.ids), *allowed)).scalars())
            missing = [job_id for job_id in chosen.ids if job_id not in found]
        breakdowns, count = (_breakdowns_grouping_sets if is_postgres() else _breakdowns_one_by_one)(where)
        samples = db.session.execute(select(c.id).where(where).limit(SAMPLES)).scalars().all() if count else []
    finally:
        db.session.rollback()  # end the read
    answer = {"count": count, "missingJobIds": missing}
    for key, _ in BREAKDOWNS:
        answer[key] = [{"value": value, "count": int(n)} for value, n in breakdowns[key]]
    answer["sampleJobIds"] = samples
    return answer
