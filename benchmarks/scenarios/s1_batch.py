"""Scenario 1 (issue 9's P1): the set-retries batch over every failed job, end to end over
HTTP, against raw SQL doing the same work on the same rows, measured in the same run:

(a)  one raw UPDATE of the failed jobs' retries, rolled back; (a') the same made non-HOT;
(b)  the ids fetched, then UPDATEs by id in slices of 1,000, one transaction, rolled back;
(d)  (b) plus each slice's failedJob incident DELETE;
(c)  the product's own slice statements, captured from a worker behind the SQL tap, replayed
     per slice with the slice's ids in place of its ids, or the slice's ids and row addresses in
     place of the slice row it reads, rolled back;
(e)  one raw statement doing all the work (retries + incident resolution), rolled back;
(f)  (d) in slices of 1,000 on 2 parallel connections, each slice committed (the floor of P1).

(a)-(e) are rolled back, so the batch then sees the same rows; (f) commits and runs after the
batch on the rows set back to 0 retries (benchmarks.datagen.restore_failed); the batch and (f)
alternate ``--batch-repetitions`` times and their medians are compared. VACUUM and
CHECKPOINT run before each measurement.
"""

import math
import re
import threading
import time

from benchmarks import datagen, profiling
from benchmarks.bench import batch_timeout, server_phases
from benchmarks.client import HttpClient
from benchmarks.common import BenchError, fmt_ratio, fmt_seconds, verdict
from benchmarks.db import (
    connect,
    connection,
    hot_share,
    scalar_at,
    settled_update_counters,
    table_update_counters,
    timed_execute,
    vacuum,
)
from benchmarks.processes import Stack
from benchmarks.sqltap import SqlTap

KEY = "1"
TITLE = "Batch end-to-end: retries 3 on every failed job (POST /job/retries, noRetriesLeft)"
STACK = "web"  # the workers join after the slice statements were captured (see run)
SLICE_SIZE = 1000
BODY = {"retries": 3, "jobQuery": {"noRetriesLeft": True}}
FAILED_IDS = "SELECT id FROM job WHERE retries = 0"
FAILED_IDS_AND_ADDRESSES = "SELECT id, ctid::text FROM job WHERE retries = 0"
ONE_UPDATE = "UPDATE job SET retries = 3, revision = revision + 1 WHERE retries = 0"
# The same rows with an indexed column changed too (priority is in ix_job_acquisition): no
# update can be HOT, which is what a raw UPDATE costs on a schema whose updates are not HOT.
ONE_UPDATE_NON_HOT = ("UPDATE job SET retries = 3, revision = revision + 1, priority = priority + 1 "
                      "WHERE retries = 0")
ONE_STATEMENT_WITH_INCIDENTS = (
    "WITH revived AS (UPDATE job SET retries = 3, revision = revision + 1 WHERE retries = 0 RETURNING id) "
    "DELETE FROM incident WHERE incident_type = 'failedJob' AND configuration IN (SELECT id FROM revived)")
SLICE_UPDATE = "UPDATE job SET retries = 3, revision = revision + 1 WHERE id = ANY(%s)"
SLICE_INCIDENT_DELETE = "DELETE FROM incident WHERE incident_type = 'failedJob' AND configuration = ANY(%s)"
PRODUCT_SLICE_STATEMENT = re.compile(r"^\s*(UPDATE job\b|DELETE FROM incident\b"
                                     r"|WITH stored AS\s*\(\s*SELECT batch_slice\.job_ids\b)")
ARRAY_OF_IDS = re.compile(r"ARRAY\[(?:'[^']*'(?:,\s*)?)+\]")
# A slice applied on its stored ids (PostgreSQL, app.services.jobs.retries.revive_stored_ids):
# the read of its row becomes the replayed slice's ids and row addresses (a batch over a job
# query keeps both, app.services.batches.engine).
STORED_IDS = re.compile(r"SELECT batch_slice\.job_ids AS ids, batch_slice\.job_tids AS tids\s+"
                        r"FROM batch_slice\s+WHERE [^)]*")
REPLAYED_SLICE_ROW = "SELECT %s::varchar[] AS ids, %s::tid[] AS tids"
ID_LIST_IN_PLAN = re.compile(r"'\{[^}]*\}'")


def _slices(ids):
    return [ids[offset:offset + SLICE_SIZE] for offset in range(0, len(ids), SLICE_SIZE)]


def measured(bench, expected_updates, function):
    """VACUUM, then ``function`` on its own connection(s); returns (its result, HOT share of its updates)."""
    vacuum(bench.url, "job", "incident")
    before = table_update_counters(bench.url)
    result = function()
    after, _ = settled_update_counters(bench.url, before, expected_updates)
    return result, hot_share(before, after)[0]


def one_statement(url, statement, expected):
    """Seconds of one statement over the failed jobs, rolled back."""
    with connection(url) as conn:
        seconds, rowcount = timed_execute(conn, statement)
        conn.rollback()
    if rowcount != expected:
        raise BenchError(f"{statement[:40]}...: {rowcount} rows, expected {expected}")
    return seconds


def slices_in_one_transaction(url, expected, with_incidents):
    """(b) / (d): fetch the ids, then per slice the UPDATE by id (and the DELETE of the slice's
    failedJob incidents), one transaction, rolled back. Returns {phase: seconds} and the ids."""
    phases = {"fetch": 0.0, "update": 0.0, "delete": 0.0}
    with connection(url) as conn:
        phases["fetch"], fetched = timed_execute(conn, FAILED_IDS, fetch=True)
        ids = [row[0] for row in fetched]
        touched = deleted = 0
        for part in _slices(ids):
            seconds, count = timed_execute(conn, SLICE_UPDATE, (part,))
            phases["update"] += seconds
            touched += count
            if with_incidents:
                seconds, count = timed_execute(conn, SLICE_INCIDENT_DELETE, (part,))
                phases["delete"] += seconds
                deleted += count
        conn.rollback()
    if touched != expected or (with_incidents and deleted != expected):
        raise BenchError(f"sliced statements touched {touched} jobs and {deleted} incidents, expected {expected}")
    return phases, ids


def _slice_parameters(template, ids, addresses):
    """A captured template's parameters: the slice's ids, and its row addresses for the
    statement that read the slice's stored row."""
    return (ids, addresses) if template.count("%s") == 2 else (ids,)


def replay_product_slices(url, templates, expected):
    """(c): the product's captured slice statements with each slice's ids (and row addresses),
    rolled back."""
    with connection(url) as conn:
        rows = timed_execute(conn, FAILED_IDS_AND_ADDRESSES, fetch=True)[1]
        ids, addresses = [row[0] for row in rows], [row[1] for row in rows]
        started = time.perf_counter()
        updated = 0
        with conn.cursor() as cursor:
            for part, part_addresses in zip(_slices(ids), _slices(addresses)):
                for template in templates:
                    cursor.execute(template, _slice_parameters(template, part, part_addresses))
                    if template.lstrip().startswith("WITH"):
                        updated += cursor.fetchone()[0]  # (jobs revived, incidents resolved)
                    elif template.lstrip().startswith("UPDATE"):
                        updated += cursor.rowcount
        seconds = time.perf_counter() - started
        conn.rollback()
    if updated != expected:
        raise BenchError(f"the product's slice statements updated {updated} jobs, expected {expected}")
    return seconds


def slices_on_two_connections(url, expected):
    """(f): the ids fetched, then two connections take slices of 1,000 in turn; per slice the
    UPDATE and the incident DELETE, committed. Returns seconds and the ids (now revived)."""
    with connection(url) as conn:
        fetch_seconds, fetched = timed_execute(conn, FAILED_IDS, fetch=True)
    ids = [row[0] for row in fetched]
    pending, lock, errors, done = _slices(ids), threading.Lock(), [], []

    def one_connection(conn):
        try:
            with conn.cursor() as cursor:
                while True:
                    with lock:
                        part = pending.pop() if pending else None
                    if part is None:
                        return
                    cursor.execute(SLICE_UPDATE, (part,))
                    done.append(cursor.rowcount)
                    cursor.execute(SLICE_INCIDENT_DELETE, (part,))
                    conn.commit()
        except Exception as exc:  # noqa: BLE001 - raised in the main thread
            errors.append(exc)

    connections = [connect(url) for _ in range(2)]
    threads = [threading.Thread(target=one_connection, args=(conn,), daemon=True) for conn in connections]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    seconds = time.perf_counter() - started
    for conn in connections:
        conn.close()
    if errors or sum(done) != expected:
        raise BenchError(f"two-connection slices: {errors or f'{sum(done)} jobs updated, expected {expected}'}")
    return fetch_seconds + seconds, ids


def capture_slice_statements(bench, ids):
    """The job UPDATE and incident DELETE one batch slice sends, from a worker behind the SQL
    tap, as templates taking the slice's ids; the slice's jobs are set back afterwards."""
    with SqlTap(bench.url) as tap:
        stack = Stack(tap.url, bench.redis_url, bench.work_dir, "web and a worker behind the SQL tap", workers=1)
        client = HttpClient(stack.start().port)
        try:
            bench.run_batch(client, {"retries": 3, "jobIds": ids}, timeout=180, stack=stack)
        finally:
            client.close()
            stack.stop()
        statements = [sql for sql in tap.take() if PRODUCT_SLICE_STATEMENT.match(sql)
                      and (f"'{ids[0]}'" in sql or STORED_IDS.search(sql))]
    with connection(bench.url) as conn:
        datagen.restore_failed(conn, ids)
    templates = [STORED_IDS.subn(REPLAYED_SLICE_ROW, sql.replace("%", "%%"), count=1) if STORED_IDS.search(sql)
                 else ARRAY_OF_IDS.subn("%s", sql.replace("%", "%%"), count=1) for sql in statements]
    if not templates or any(count != 1 for _, count in templates):
        raise BenchError(f"no slice statement with the slice's ids as one ARRAY[...] or its stored row among "
                         f"{len(statements)}")
    return [template for template, _ in templates]


def explain_slice(url, templates, ids):
    """EXPLAIN (ANALYZE, BUFFERS, WAL) of one slice's statements, in one transaction, rolled back."""
    plans = []
    with connection(url) as conn:
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT id, ctid::text FROM job WHERE id = ANY(%s)", (ids,))
                where = dict(cursor.fetchall())
                addresses = [where.get(job_id) for job_id in ids]
                for template in templates:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, WAL) " + template,
                                   _slice_parameters(template, ids, addresses))
                    head = re.sub(r"\s+", " ", ARRAY_OF_IDS.sub(f"ARRAY[<{len(ids)} ids>]", cursor.query.decode()))
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                    plans.append((head.replace("EXPLAIN (ANALYZE, BUFFERS, WAL) ", "", 1),
                                  ID_LIST_IN_PLAN.sub(f"'{{<{len(ids)} ids>}}'", plan)))
        finally:
            conn.rollback()
    return plans


def measure_baselines(bench, failed):
    """(a), (a'), (b), (d), (c), (e) and one slice's plans; every one rolled back."""
    url, found = bench.url, {}
    found["one_update"], found["one_update_hot"] = measured(bench, failed, lambda: one_statement(url, ONE_UPDATE,
                                                                                                 failed))
    found["non_hot"], found["non_hot_hot"] = measured(bench, failed, lambda: one_statement(url, ONE_UPDATE_NON_HOT,
                                                                                           failed))
    (found["slices"], ids), found["slices_hot"] = measured(
        bench, failed, lambda: slices_in_one_transaction(url, failed, with_incidents=False))
    (found["with_incidents"], _), _ = measured(bench, failed,
                                               lambda: slices_in_one_transaction(url, failed, with_incidents=True))
    found["all_work"], _ = measured(bench, failed, lambda: one_statement(url, ONE_STATEMENT_WITH_INCIDENTS, failed))
    try:
        templates = capture_slice_statements(bench, ids[:SLICE_SIZE])
        found["product"], found["product_hot"] = measured(bench, failed,
                                                          lambda: replay_product_slices(url, templates, failed))
        vacuum(url, "job", "incident")
        found["plans"] = explain_slice(url, templates, ids[:SLICE_SIZE])
    except BenchError as exc:
        found["product_error"] = str(exc)
    return found, ids


def run_batch(bench, failed):
    """The batch over HTTP with the workers running; memory and HOT share while it runs."""
    vacuum(bench.url, "job", "incident")
    client = bench.client()
    try:
        bench.warm_up(client)
        before = table_update_counters(bench.url)
        with bench.sampler.window() as window:
            outcome = bench.run_batch(client, BODY, batch_timeout(failed, failed))
        after, settled = settled_update_counters(bench.url, before, failed)
    finally:
        client.close()
    outcome["hot"], outcome["updates"] = hot_share(before, after)
    outcome["settled"] = settled
    for name, peak in window.peaks.items():
        bench.memory[f"batch_{name}"] = peak
    return outcome


def after_batch_floor(bench, ids, failed):
    """(f) on the same jobs set back to 0 retries with their incidents."""
    with connection(bench.url) as conn:
        datagen.restore_failed(conn, ids)
    (seconds, _), _ = measured(bench, failed, lambda: slices_on_two_connections(bench.url, failed))
    return seconds


def profiled_rerun(bench, ids, failed):
    """The batch again on the same jobs (set back), py-spy on every pool process; its time is
    not a measurement (py-spy shares the 2 cores)."""
    if profiling.py_spy() is None:
        bench.note(KEY, "py-spy is not installed (`.venv/bin/pip install py-spy`): no worker profile.")
        return
    with connection(bench.url) as conn:
        datagen.restore_failed(conn, ids)
    vacuum(bench.url, "job", "incident")
    client = bench.client()
    try:
        with profiling.recording(bench.stack.workers, bench.work_dir, bench.n) as paths:
            outcome = bench.run_batch(client, BODY, batch_timeout(failed, failed))
    finally:
        client.close()
    bench.add(KEY, "profiled re-run (py-spy on every pool process; not a measurement)", fmt_seconds(outcome["seconds"]))
    bench.note(KEY, f"py-spy record of the {len(paths)} pool processes during the profiled re-run of the same batch "
                    "(same jobs set back to 0 retries with incidents, VACUUM), frames merged over lines:")
    bench.note(KEY, f"```\n{profiling.summarise_profile(paths)}\n```")


def batch_and_floor_alternately(bench, ids, failed):
    """The batch, then (f) on the same jobs set back, ``--batch-repetitions`` times: this shared
    machine's speed drifts by a third within minutes, so each side's median is compared, not
    one batch with one (f) measured a minute apart. Returns the median batch's outcome, the
    median (f), the checks after the first batch and every pair for the notes."""
    outcomes, floors, checks = [], [], None
    for repetition in range(max(1, bench.args.batch_repetitions)):
        if repetition:
            with connection(bench.url) as conn:
                datagen.restore_failed(conn, ids)
        outcomes.append(run_batch(bench, failed))
        if checks is None:
            checks = (scalar_at(bench.url, "SELECT count(*) FROM job WHERE retries = 0"),
                      scalar_at(bench.url, "SELECT count(*) FROM incident WHERE incident_type = 'failedJob'"))
        floors.append(after_batch_floor(bench, ids, failed))
    median_outcome = sorted(outcomes, key=lambda outcome: outcome["seconds"])[len(outcomes) // 2]
    pairs = [(outcome["seconds"], floor) for outcome, floor in zip(outcomes, floors)]
    return median_outcome, sorted(floors)[len(floors) // 2], checks, pairs


def run(bench):
    failed = scalar_at(bench.url, "SELECT count(*) FROM job WHERE retries = 0")
    if not failed:
        raise BenchError("no job has 0 retries: nothing for the batch to do")
    found, ids = measure_baselines(bench, failed)
    bench.ensure_stack(workers=True)
    outcome, found["two_connections"], (left, incidents_left), pairs = batch_and_floor_alternately(bench, ids, failed)
    if len(pairs) > 1:
        bench.note(KEY, f"The batch and (f) ran alternately {len(pairs)} times (batch, then (f) on the same jobs set "
                        "back); the rows compare the medians. Each pair, batch / (f): "
                        + "; ".join(f"{fmt_seconds(batch)} / {fmt_seconds(floor)}" for batch, floor in pairs) + ".")
    batch_rows(bench, failed, found, outcome)
    job_log_rows(bench, outcome["batch"]["id"])
    bench.add(KEY, "check: jobs still at 0 retries / failedJob incidents left", f"{left} / {incidents_left}",
              target="0 / 0", result=verdict(left == 0 and incidents_left == 0))
    batch_notes(bench, failed, found, outcome)
    if bench.args.profile:
        profiled_rerun(bench, ids, failed)


def job_log_rows(bench, batch_id):
    """What the job log (on by default, spec A19) wrote for the batch, and the outcome request."""
    events = scalar_at(bench.url, "SELECT count(*) FROM job_log WHERE batch_id = %s", (batch_id,))
    client = bench.client()
    try:
        response = client.request("GET", f"/engine-rest/history/batch/{batch_id}/outcome").expect(200)
    finally:
        client.close()
    result = response.json()
    bench.add(KEY, f"job log {'on' if bench.args.job_log else 'off'}: events of the batch's own jobs",
              f"{events}", target="creation + success of seed, execution and monitor jobs" if bench.args.job_log
              else "0")
    bench.add(KEY, f"GET /history/batch/{{id}}/outcome over {result['updated']} revived jobs",
              f"{fmt_seconds(response.seconds)} (pending {result['pending']}, succeeded {result['succeeded']}, "
              f"failed again {result['failedAgain']})")


def _total(phases):
    return sum(phases.values())


def batch_rows(bench, failed, found, outcome):
    batch, seconds = outcome["batch"], outcome["seconds"]
    figure = (f"batch end-to-end, {failed} jobs ({batch['totalJobs']} execution jobs of "
              f"{batch['invocationsPerBatchJob']})")
    baselines = [
        ("(a) one raw UPDATE, rolled back", found["one_update"], "<= 0.5x (a)", 0.5),
        ("(b) ids fetched + slices of 1000 by id, one transaction, rolled back", _total(found["slices"]),
         "<= 1.2x (b)", 1.2),
        ("(d) = (b) + each slice's incident DELETE, one transaction, rolled back", _total(found["with_incidents"]),
         "", None),
        ("(c) the product's slice statements (captured from a worker), replayed per slice, rolled back",
         found.get("product"), "", None),
        ("(a') the raw UPDATE made non-HOT (priority + 1 too), rolled back", found["non_hot"], "", None),
        ("(e) one raw statement: retries + failedJob incidents resolved (CTE), rolled back", found["all_work"],
         "<= 2x (e) (issue 9, P1)", 2.0),
        ("(f) ids fetched + slices of 1000 on 2 parallel connections, retries + incidents, each slice committed",
         found["two_connections"], "<= 1.2x (f) (issue 9, P1)", 1.2),
    ]
    for index, (label, baseline, target, bound) in enumerate(baselines):
        if baseline is None:
            bench.add(KEY, "batch end-to-end", fmt_seconds(seconds), label, f"n/a ({found.get('product_error')})")
            continue
        bench.add(KEY, figure if index == 0 else "batch end-to-end", fmt_seconds(seconds), label,
                  fmt_seconds(baseline), fmt_ratio(seconds, baseline), target,
                  verdict(seconds <= bound * baseline) if bound else "")
    phase_rows(bench, failed, found, outcome)


def phase_rows(bench, failed, found, outcome):
    batch, seconds = outcome["batch"], outcome["seconds"]
    slices = _total(found["slices"])
    to_execution, executing, server_total = server_phases(outcome["history"])
    bench.add(KEY, "batch creation (POST /job/retries response)", fmt_seconds(outcome["create_seconds"]))
    bench.add(KEY, "server clock: startTime -> executionStartTime -> endTime",
              f"{fmt_seconds(to_execution)} + {fmt_seconds(executing)} = {fmt_seconds(server_total)}")
    bench.add(KEY, "execution throughput",
              f"{batch['totalJobs'] / seconds:.1f} execution jobs/s, {failed / seconds:.0f} rows/s",
              "(b) rows/s", f"{failed / slices:.0f} rows/s", fmt_ratio(failed / seconds, failed / slices))
    hot = " / ".join(f"{found[key]:.1%}" if key in found else "n/a"
                     for key in ("one_update_hot", "non_hot_hot", "slices_hot", "product_hot"))
    bench.add(KEY, "HOT share of job updates during the batch",
              f"{outcome['hot']:.1%} of {outcome['updates']} updates"
              + ("" if outcome["settled"] else " (statistics not settled)"), "(a) / (a') / (b) / (c)", hot)


def batch_notes(bench, failed, found, outcome):
    slices, with_incidents, history = found["slices"], found["with_incidents"], outcome["history"]
    bench.note(KEY, f"(b) split: fetching the {failed} ids {fmt_seconds(slices['fetch'])}, updating "
                    f"{math.ceil(failed / SLICE_SIZE)} slices {fmt_seconds(slices['update'])}. (d) split: fetch "
                    f"{fmt_seconds(with_incidents['fetch'])}, UPDATEs {fmt_seconds(with_incidents['update'])}, "
                    f"incident DELETEs {fmt_seconds(with_incidents['delete'])}. (a), (a'), (b), (c), (d) and (e) are "
                    "rolled back, so the batch then sees the same rows; VACUUM (not FULL) and CHECKPOINT run before "
                    "each of them and the batch. Their times exclude the COMMIT the batch pays per slice; (f) "
                    "commits each slice and runs after the batch, on the same jobs set back to 0 retries with "
                    "their incidents.")
    bench.note(KEY, "(c) replays the UPDATE and incident DELETE that a worker sent for one slice of 1000 (captured "
                    "through the SQL tap, benchmarks/sqltap.py, from a batch over the first 1000 failed ids, which "
                    "were then set back), with each slice's ids (and the rows' addresses, as a batch over a job "
                    "query stores them) in place of that slice's.")
    bench.note(KEY, "The batch's HOT share counts every update of `job` while it ran, including the lock "
                    f"updates of its own {outcome['batch']['totalJobs']} execution jobs and its seed/monitor jobs.")
    bench.note(KEY, f"Batch {outcome['batch']['id']}: startTime {history.get('startTime')}, executionStartTime "
                    f"{history.get('executionStartTime')}, endTime {history.get('endTime')}, "
                    f"{outcome['polls']} polls at 0.1 s.")
    if found.get("plans"):
        bench.note(KEY, f"One slice as the product sends it (the first {SLICE_SIZE} failed ids), EXPLAIN (ANALYZE, "
                        "BUFFERS, WAL), rolled back:")
        for head, plan in found["plans"]:
            bench.note(KEY, f"```\n{head[:300]}{' ...' if len(head) > 300 else ''}\n{plan}\n```")
