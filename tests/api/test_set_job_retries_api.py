"""``POST /job/retries`` (spec B.3 with A1): every 400 of B.3.2 in Camunda's order, and the
BatchDto returned right after creation (B.3.3, B.4.1). No worker runs here."""

import json
import math
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.dates import parse_date
from app.extensions import db
from app.models import BatchSlice
from tests.support import assert_400, recorded_statements, table_counts, writes

BATCH_DTO_KEYS = [
    "id", "type", "totalJobs", "jobsCreated", "batchJobsPerSeed", "invocationsPerBatchJob",
    "seedJobDefinitionId", "monitorJobDefinitionId", "batchJobDefinitionId", "suspended", "tenantId",
    "createUserId", "startTime", "executionStartTime",
]
BASES = ("/engine-rest", "/engine-rest/engine/default")


def post(client, body=None, raw=None, base="/engine-rest"):
    if raw is not None:
        return client.post(f"{base}/job/retries", data=raw, content_type="application/json")
    return client.post(f"{base}/job/retries", json=body)


# --- the 400s of B.3.2, in order ------------------------------------------------------------

@pytest.mark.parametrize("raw", ["", "   ", None])
def test_empty_body_is_setjobretriesdto_is_null(client, raw):
    response = (client.post("/engine-rest/job/retries") if raw is None
                else post(client, raw=raw))
    assert_400(response, "setJobRetriesDto is null")


@pytest.mark.parametrize("body", [
    {},
    {"retries": None, "jobIds": ["a"]},
    {"jobIds": []},
    {"jobQuery": {"dueDates": [{"operator": "bt", "value": "2020-01-01T00:00:00.000+0000"}]}},
])
def test_retries_is_null_comes_first(client, body):
    assert_400(post(client, body), "retries is null")


@pytest.mark.parametrize("job_query, message", [
    ({"dueDates": [{"operator": "bt", "value": "2020-01-01T00:00:00.000+0000"}]},
     "Invalid due date comparator specified: bt"),
    ({"createTimes": [{"operator": "xx", "value": "2020-01-01T00:00:00.000+0000"}]},
     "Invalid create time comparator specified: xx"),
    ({"dueDates": [{"operator": "lt", "value": "not a date"}]},
     'Invalid due date format: Cannot convert value "not a date" to java type java.util.Date'),
    ({"timers": True, "messages": True}, "Parameter timers cannot be used together with parameter messages."),
    ({"sortBy": "nope", "sortOrder": "asc"}, "sortBy parameter has invalid value: nope"),
    ({"sortBy": "jobId"}, "Only a single sorting parameter specified. sortBy and sortOrder required"),
])
def test_job_query_validation_errors(client, app, targets, job_query, message):
    targets(2)
    before = table_counts(app)
    assert_400(post(client, {"retries": 1, "jobQuery": job_query}), message)
    assert table_counts(app) == before


def test_job_query_type_error_names_the_field(client):
    response = post(client, {"retries": 1, "jobQuery": {"priorityHigherThanOrEquals": "high"}})
    assert response.status_code == 400
    assert response.get_json()["message"].startswith("jobQuery.priorityHigherThanOrEquals")
    response = post(client, {"retries": 1, "jobQuery": ["not", "an", "object"]})
    assert response.status_code == 400 and response.get_json()["type"] == "InvalidRequestException"


@pytest.mark.parametrize("body", [
    {"retries": 1},
    {"retries": 1, "jobIds": []},
    {"retries": 1, "jobIds": None, "jobQuery": None},
    {"retries": -1},
    {"retries": -1, "jobIds": []},
])
def test_no_selector(client, app, body):
    before = table_counts(app)
    assert_400(post(client, body), "You must specify at least one of jobIds or jobQuery.")
    assert table_counts(app) == before


@pytest.mark.parametrize("retries", [1, -1])
@pytest.mark.parametrize("selection", [
    {"jobQuery": {"jobId": "no-such-job"}},
    {"jobQuery": {"tenantIdIn": ["nobody"]}},
    {"jobIds": [], "jobQuery": {"jobIds": ["x", "y"]}},
])
def test_empty_selection_is_jobids_is_empty_and_writes_nothing(client, app, targets, retries, selection):
    targets(2)
    before = table_counts(app)
    assert_400(post(client, {"retries": retries, **selection}), "jobIds is empty")
    assert table_counts(app) == before


@pytest.mark.parametrize("selection", ["ids", "query", "missing-id"])
def test_negative_retries_writes_nothing(client, app, targets, selection):
    ids = targets(2)
    body = {"retries": -3}
    if selection == "ids":
        body["jobIds"] = ids
    elif selection == "query":
        body["jobQuery"] = {}
    else:
        body["jobIds"] = ["no-such-job"]
    before = table_counts(app)
    assert_400(post(client, body), "Retries count is not greater than or equal to 0")
    assert table_counts(app) == before


@pytest.mark.parametrize("job_query, message", [
    ({}, "Retries count is not greater than or equal to 0"),
    ({"tenantIdIn": ["nobody"]}, "jobIds is empty"),
])
def test_negative_retries_over_a_wide_query_only_probes_the_selection(client, app, targets, job_query, message):
    """Camunda's message order without writing the selection: an EXISTS probe, then the 400."""
    targets(50)
    with recorded_statements(app) as sent:
        assert_400(post(client, {"retries": -1, "jobQuery": job_query}), message)
    assert writes(sent) == []
    assert not any("batch_slice" in statement for statement in sent)
    assert sum("EXISTS" in statement.upper() for statement in sent) == 1


def test_a_valid_request_writes_its_selection_with_one_statement(client, app, targets):
    targets(50)
    with recorded_statements(app) as sent:
        assert post(client, {"retries": 1, "jobQuery": {}}).status_code == 200
    element_writes = [statement for statement in writes(sent) if "batch_slice" in statement]
    assert len(element_writes) == 1 and "SELECT" in element_writes[0].upper()
    assert not any("EXISTS" in statement.upper() for statement in sent)  # no probe when nothing to check


@pytest.mark.parametrize("retries", ["abc", 1.5, True, [1], {"n": 1}, 2**31])
def test_non_integer_retries(client, targets, retries):
    ids = targets(1)
    response = post(client, {"retries": retries, "jobIds": ids})
    assert response.status_code == 400
    assert "retries" in response.get_json()["message"]
    assert response.get_json()["type"] == "InvalidRequestException"


@pytest.mark.parametrize("body, message", [
    ({"retries": "abc", "jobIds": 5, "dueDate": "x"}, "retries must be an integer, got 'abc'"),
    ({"retries": 1.5, "jobIds": ["a"]}, "retries must be an integer, got 1.5"),
    ({"retries": False, "jobIds": ["a"]}, "retries must be an integer, got False"),
    ({"retries": 2**31, "jobIds": ["a"]}, "retries must be at most 2147483647, got 2147483648"),
    ({"retries": 1, "jobIds": [1], "dueDate": "x"}, "jobIds must be an array of job id strings"),
    ({"retries": 1, "jobIds": ["a"], "dueDate": "x", "jobQuery": {"timers": True, "messages": True}},
     'Invalid due date format: Cannot convert value "x" to java type java.util.Date'),
    ({"retries": 1, "jobQuery": {"timers": True, "messages": True}},
     "Parameter timers cannot be used together with parameter messages."),
    ("text", "The body must be a JSON object with retries and jobIds and/or jobQuery"),
])
def test_the_first_failing_check_answers_word_for_word(client, app, body, message):
    before = table_counts(app)
    assert_400(post(client, body), message)
    assert table_counts(app) == before


def test_a_very_negative_count_gets_camundas_message_after_the_selection(client, targets):
    """Only the upper bound is checked on loading: the count's sign is the batch type's check."""
    assert_400(post(client, {"retries": -(2**40), "jobIds": targets(1)}),
               "Retries count is not greater than or equal to 0")


@pytest.mark.parametrize("body, fragment", [
    ({"retries": 1, "jobIds": "abc"}, "jobIds"),
    ({"retries": 1, "jobIds": [1, 2]}, "jobIds"),
    ({"retries": 1, "jobIds": ["a"], "dueDate": "tomorrow"}, "Invalid due date format"),
    ({"retries": 1, "jobIds": ["a"], "dueDate": "2020-02-30T00:00:00.000+0000"}, "Invalid due date format"),
    ([1, 2, 3], "JSON object"),
    ("text", "JSON object"),
])
def test_malformed_bodies(client, app, body, fragment):
    before = table_counts(app)
    response = post(client, body)
    assert response.status_code == 400
    assert fragment in response.get_json()["message"]
    assert table_counts(app) == before


def test_malformed_json(client):
    response = post(client, raw='{"retries": 1, "jobIds": [')
    assert response.status_code == 400
    assert response.get_json()["type"] == "InvalidRequestException"


# --- success: the BatchDto right after creation ------------------------------------------

def test_batch_dto_right_after_creation(client, app, targets, dispatched, batch_config):
    batch_config(INVOCATIONS_PER_BATCH_JOB=1, BATCH_JOBS_PER_SEED=100)
    ids = targets(3)
    dispatched.clear()
    before = datetime.utcnow() - timedelta(seconds=1)
    response = post(client, {"retries": 5, "jobIds": ids})
    assert response.status_code == 200
    batch = response.get_json()
    assert list(batch) == BATCH_DTO_KEYS
    assert batch["type"] == "set-job-retries"
    assert batch["totalJobs"] == 3 and batch["jobsCreated"] == 0
    assert batch["batchJobsPerSeed"] == 100 and batch["invocationsPerBatchJob"] == 1
    definitions = {batch["seedJobDefinitionId"], batch["monitorJobDefinitionId"], batch["batchJobDefinitionId"]}
    assert len(definitions) == 3 and None not in definitions
    assert batch["suspended"] is False and batch["tenantId"] is None and batch["createUserId"] is None
    assert batch["executionStartTime"] is None
    assert batch["startTime"].endswith("+0000")
    assert before <= parse_date(batch["startTime"]) <= datetime.utcnow() + timedelta(seconds=1)
    # The same batch over GET, under both base paths; its history row exists, not ended.
    for base in BASES:
        assert client.get(f"{base}/batch/{batch['id']}").get_json() == batch
    history = client.get(f"/engine-rest/history/batch/{batch['id']}").get_json()
    assert history["startTime"] == batch["startTime"] and history["endTime"] is None
    assert history["totalJobs"] == 3 and history["elements"] == 3
    # One seed job (with the batch id) exists, the executor was woken after the commit.
    seeds = client.get(f"/engine-rest/job?jobDefinitionId={batch['seedJobDefinitionId']}").get_json()
    assert len(seeds) == 1 and seeds[0]["batchId"] == batch["id"]
    assert seeds[0]["retries"] == app.config["DEFAULT_JOB_RETRIES"]
    assert "executor.acquire" in dispatched.names()
    # No execution jobs yet.
    assert client.get(f"/engine-rest/job/count?jobDefinitionId={batch['batchJobDefinitionId']}").get_json() == \
        {"count": 0}


@pytest.mark.parametrize("base", BASES)
def test_both_base_paths(client, targets, base):
    ids = targets(1)
    response = post(client, {"retries": 2, "jobIds": ids}, base=base)
    assert response.status_code == 200 and response.get_json()["totalJobs"] == 1
    assert_400(post(client, {"retries": 2}, base=base), "You must specify at least one of jobIds or jobQuery.")


@pytest.mark.parametrize("invocations, elements", [(1, 5), (2, 5), (3, 6), (10, 5), (1000, 1)])
def test_total_jobs_is_ceil_of_elements(client, targets, batch_config, invocations, elements):
    batch_config(INVOCATIONS_PER_BATCH_JOB=invocations)
    ids = targets(elements)
    batch = post(client, {"retries": 1, "jobIds": ids}).get_json()
    assert batch["invocationsPerBatchJob"] == invocations
    assert batch["totalJobs"] == math.ceil(elements / invocations)


def test_invocations_per_batch_type_override(client, targets, batch_config):
    batch_config(INVOCATIONS_PER_BATCH_JOB=1, INVOCATIONS_PER_BATCH_JOB_BY_TYPE={"set-job-retries": 3},
                 BATCH_JOBS_PER_SEED=7)
    batch = post(client, {"retries": 1, "jobIds": targets(7)}).get_json()
    assert (batch["invocationsPerBatchJob"], batch["totalJobs"], batch["batchJobsPerSeed"]) == (3, 3, 7)


def test_dedup_of_ids_and_query_overlap_and_missing_ids_counted(client, app, targets, batch_config):
    batch_config(INVOCATIONS_PER_BATCH_JOB=1)
    tenant_a = targets(3, tenantId="a")
    tenant_b = targets(2, tenantId="b")
    body = {
        "retries": 1,
        "jobIds": [tenant_a[0], tenant_a[0], tenant_b[0], "missing-1", "missing-2", "missing-1"],
        "jobQuery": {"tenantIdIn": ["a"]},
    }
    batch = post(client, body).get_json()
    # a0 a1 a2 from the query (a0 also explicit), b0, and the two missing ids once each.
    assert batch["totalJobs"] == 6
    with app.app_context():
        elements = [job_id for job_ids in db.session.execute(
            select(BatchSlice.job_ids).where(BatchSlice.batch_id == batch["id"])).scalars() for job_id in job_ids]
        db.session.remove()
    assert sorted(elements) == sorted(set(tenant_a + [tenant_b[0], "missing-1", "missing-2"]))


def test_ids_only_with_missing_ids(client, targets, batch_config):
    batch_config(INVOCATIONS_PER_BATCH_JOB=2)
    ids = targets(1)
    batch = post(client, {"retries": 1, "jobIds": ids + ["nope-1", "nope-2"]}).get_json()
    assert batch["totalJobs"] == 2


def test_empty_job_query_selects_every_job_including_other_batches_jobs(client, targets, batch_config):
    batch_config(INVOCATIONS_PER_BATCH_JOB=1)
    ids = targets(2)
    first = post(client, {"retries": 1, "jobIds": ids}).get_json()
    assert first["totalJobs"] == 2
    second = post(client, {"retries": 1, "jobQuery": {}}).get_json()
    assert second["totalJobs"] == 3  # the two targets and the first batch's seed job


def test_query_filters_select(client, targets, batch_config):
    batch_config(INVOCATIONS_PER_BATCH_JOB=1)
    targets(2, retries=0)
    targets(3, retries=2)
    batch = post(client, {"retries": 3, "jobQuery": {"noRetriesLeft": True}}).get_json()
    assert batch["totalJobs"] == 2


@pytest.mark.parametrize("extra", [
    {"retries": "5"},
    {"retries": 5.0},
    {"dueDate": None},
    {"dueDate": "2030-01-01T00:00:00.000+0000"},
    {"dueDate": "2030-01-01T00:00:00Z"},
    {"dueDate": 1893456000000},
    {"unknownProperty": "ignored"},
    {"jobQuery": {"sorting": [{"sortBy": "jobId", "sortOrder": "asc"}], "jobIds": []}},
])
def test_accepted_variants(client, targets, extra):
    ids = targets(1)
    response = post(client, {"retries": 5, "jobIds": ids, **extra})
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("bad_id", ["a\u0000b", "\ud800", "x" * 65])
def test_impossible_job_ids_are_400_not_500(client, app, targets, bad_id):
    ids = targets(1)
    before = table_counts(app)
    response = client.post("/engine-rest/job/retries", content_type="application/json",
                           data=json.dumps({"retries": 1, "jobIds": ids + [bad_id]}))
    assert_400(response, "jobIds[1] is not a possible job id: at most 64 characters of valid Unicode text without NUL")
    assert table_counts(app) == before


def test_longest_possible_missing_id_is_accepted(client, targets):
    batch = post(client, {"retries": 1, "jobIds": targets(1) + ["y" * 64]}).get_json()
    assert batch["totalJobs"] >= 1
