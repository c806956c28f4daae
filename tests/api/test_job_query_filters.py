"""Every filter of spec B.1.2 against real rows, alone and combined (A3: all filters are ANDed).

Each query runs as GET /job, POST /job, GET /job/count and POST /job/count; the helper checks
that the four agree. Expected results are lists of ids in the default order (id asc).
"""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.core.dates import format_date, utcnow
from app.extensions import db
from app.models import Job, JobDefinition
from tests.api.job_query_support import BASES, LONG_MAX, LONG_MIN, query

ALL = ["j01", "j02", "j03", "j04", "j05", "j06"]
PAST = "2020-06-01T00:00:00.000+0000"
PAST_LATER = "2020-07-01T00:00:00.000+0000"
FUTURE = "2999-01-01T00:00:00.000+0000"


def t(day, hour=0):
    return f"2020-01-{day:02d}T{hour:02d}:00:00.000+0000"


@pytest.fixture
def jobs(make_jobs):
    """Six jobs that differ in every filtered column. Returns {id: JobDto}."""
    created = make_jobs(
        {"id": "j01", "type": "message", "processDefinitionKey": "invoice", "activityId": "send",
         "processDefinitionId": "invoice:1", "processInstanceId": "pi1", "executionId": "ex1",
         "retries": 3, "priority": 10, "tenantId": "t1", "createTime": t(1)},
        {"id": "j02", "type": "timer", "processDefinitionKey": "invoice", "activityId": "wait",
         "processDefinitionId": "invoice:1", "processInstanceId": "pi1", "executionId": "ex2",
         "retries": 0, "exceptionMessage": "boom", "failedActivityId": "send", "priority": 5,
         "tenantId": "t2", "dueDate": PAST, "createTime": t(2)},
        {"id": "j03", "type": "timer", "processDefinitionKey": "order", "activityId": "wait",
         "processDefinitionId": "order:1", "processInstanceId": "pi2", "executionId": "ex3",
         "retries": 1, "exceptionStacktrace": "java.lang.RuntimeException\n\tat Foo", "priority": -5,
         "dueDate": FUTURE, "suspended": True, "createTime": t(3)},
        {"id": "j04", "type": "message", "processDefinitionKey": "order", "activityId": "send",
         "processDefinitionId": "order:2", "processInstanceId": "pi3", "executionId": "ex4",
         "retries": 2, "exceptionMessage": "Boom", "failedActivityId": "check", "priority": LONG_MAX,
         "tenantId": "t1", "dueDate": PAST_LATER, "suspended": True, "createTime": t(3)},
        {"id": "j05", "type": "message", "retries": 3, "priority": LONG_MIN, "createTime": t(4)},
        {"id": "j06", "type": "message", "processDefinitionKey": "invoice", "activityId": "send",
         "handlerType": "demo.other", "processDefinitionId": "invoice:1", "processInstanceId": "pi4",
         "retries": 5, "priority": 0, "createTime": t(5)},
    )
    return {job["id"]: job for job in created}


# (GET params, POST body, expected ids). None as body: same as the GET params.
CASES = {
    "no filter": ({}, {}, ALL),
    "unknown parameters are ignored": ({"id": "", "foo": "bar"}, {"id": "x", "foo": [1]}, ALL),
    "jobId": ({"jobId": "j02"}, None, ["j02"]),
    "jobId unknown": ({"jobId": "nope"}, None, []),
    "jobIds": ({"jobIds": "j03,j01,nope"}, {"jobIds": ["j03", "j01", "nope"]}, ["j01", "j03"]),
    "jobIds repeated (A7)": ({"jobIds": ["j03", "j01"]}, {"jobIds": ["j03", "j01"]}, ["j01", "j03"]),
    "jobIds repeated and comma": ({"jobIds": ["j03,j05", "j01"]}, {"jobIds": ["j03", "j05", "j01"]},
                                  ["j01", "j03", "j05"]),
    "jobIds only fakes": ({"jobIds": "x,y"}, {"jobIds": ["x", "y"]}, []),
    "jobIds empty JSON list is ignored": ({}, {"jobIds": []}, ALL),
    "jobIds null is ignored": ({}, {"jobIds": None}, ALL),
    "processInstanceId": ({"processInstanceId": "pi1"}, None, ["j01", "j02"]),
    "processInstanceIds": ({"processInstanceIds": "pi1,pi3"}, {"processInstanceIds": ["pi1", "pi3"]},
                           ["j01", "j02", "j04"]),
    "processInstanceIds repeated": ({"processInstanceIds": ["pi2", "pi4"]}, {"processInstanceIds": ["pi2", "pi4"]},
                                    ["j03", "j06"]),
    "processInstanceIds empty JSON list is ignored": ({}, {"processInstanceIds": []}, ALL),
    "executionId": ({"executionId": "ex3"}, None, ["j03"]),
    "processDefinitionId": ({"processDefinitionId": "invoice:1"}, None, ["j01", "j02", "j06"]),
    "processDefinitionKey": ({"processDefinitionKey": "order"}, None, ["j03", "j04"]),
    "processDefinitionKey unknown": ({"processDefinitionKey": "ord"}, None, []),
    "activityId send": ({"activityId": "send"}, None, ["j01", "j04", "j06"]),
    "activityId wait": ({"activityId": "wait"}, None, ["j02", "j03"]),
    "activityId unknown": ({"activityId": "sen"}, None, []),
    "withRetriesLeft": ({"withRetriesLeft": "true"}, {"withRetriesLeft": True},
                        ["j01", "j03", "j04", "j05", "j06"]),
    "withRetriesLeft false is no filter": ({"withRetriesLeft": "false"}, {"withRetriesLeft": False}, ALL),
    # retries > 0 and (due null or past); the job's own suspension is not checked (j04).
    "executable": ({"executable": "true"}, {"executable": True}, ["j01", "j04", "j05", "j06"]),
    "executable false is no filter": ({"executable": "false"}, {"executable": False}, ALL),
    "timers": ({"timers": "true"}, {"timers": True}, ["j02", "j03"]),
    "messages": ({"messages": "true"}, {"messages": True}, ["j01", "j04", "j05", "j06"]),
    "timers false + messages": ({"timers": "false", "messages": "true"}, {"timers": False, "messages": True},
                                ["j01", "j04", "j05", "j06"]),
    "dueDates gt": ({"dueDates": "gt_2020-06-15T00:00:00.000+0000"},
                    {"dueDates": [{"operator": "gt", "value": "2020-06-15T00:00:00.000+0000"}]}, ["j03", "j04"]),
    "dueDates lt": ({"dueDates": "lt_2020-06-15T00:00:00.000+0000"},
                    {"dueDates": [{"operator": "lt", "value": "2020-06-15T00:00:00.000+0000"}]}, ["j02"]),
    "dueDates gt is strict": ({"dueDates": f"gt_{PAST}"}, {"dueDates": [{"operator": "gt", "value": PAST}]},
                              ["j03", "j04"]),
    "dueDates lt is strict": ({"dueDates": f"lt_{PAST_LATER}"},
                              {"dueDates": [{"operator": "lt", "value": PAST_LATER}]}, ["j02"]),
    "dueDates range": ({"dueDates": "gt_2020-05-01T00:00:00.000+0000,lt_2020-12-31T00:00:00.000+0000"},
                       {"dueDates": [{"operator": "gt", "value": "2020-05-01T00:00:00.000+0000"},
                                     {"operator": "lt", "value": "2020-12-31T00:00:00.000+0000"}]},
                       ["j02", "j04"]),
    "dueDates repeated parameter": ({"dueDates": ["gt_2020-05-01T00:00:00.000+0000",
                                                  "lt_2020-12-31T00:00:00.000+0000"]},
                                    {"dueDates": [{"operator": "gt", "value": "2020-05-01T00:00:00.000+0000"},
                                                  {"operator": "lt", "value": "2020-12-31T00:00:00.000+0000"}]},
                                    ["j02", "j04"]),
    "dueDates inverted range matches nothing": (
        {"dueDates": "gt_2020-12-31T00:00:00.000+0000,lt_2020-05-01T00:00:00.000+0000"},
        {"dueDates": [{"operator": "gt", "value": "2020-12-31T00:00:00.000+0000"},
                      {"operator": "lt", "value": "2020-05-01T00:00:00.000+0000"}]}, []),
    # A NULL due date never matches a condition (j01, j05, j06 have none).
    "dueDates null never matches": ({"dueDates": "gt_1970-01-01T00:00:00.000+0000"},
                                    {"dueDates": [{"operator": "gt", "value": 0}]}, ["j02", "j03", "j04"]),
    "dueDates same operator: last wins": (
        {"dueDates": "gt_2020-06-15T00:00:00.000+0000,gt_1970-01-01T00:00:00.000+0000"},
        {"dueDates": [{"operator": "gt", "value": "2020-06-15T00:00:00.000+0000"},
                      {"operator": "gt", "value": "1970-01-01T00:00:00.000+0000"}]}, ["j02", "j03", "j04"]),
    "dueDates same operator: last wins (other way round)": (
        {"dueDates": "gt_1970-01-01T00:00:00.000+0000,gt_2020-06-15T00:00:00.000+0000"},
        {"dueDates": [{"operator": "gt", "value": "1970-01-01T00:00:00.000+0000"},
                      {"operator": "gt", "value": "2020-06-15T00:00:00.000+0000"}]}, ["j03", "j04"]),
    "dueDates other zone": ({"dueDates": "lt_2020-06-01T01:00:00.001+0100"},
                            {"dueDates": [{"operator": "lt", "value": "2020-06-01T01:00:00.001+01:00"}]}, ["j02"]),
    "dueDates empty list is no filter": ({}, {"dueDates": []}, ALL),
    # createTimes: gt is strict, lt is inclusive (spec B.1.3).
    "createTimes gt is strict": ({"createTimes": f"gt_{t(2)}"}, {"createTimes": [{"operator": "gt", "value": t(2)}]},
                                 ["j03", "j04", "j05", "j06"]),
    "createTimes lt is inclusive": ({"createTimes": f"lt_{t(2)}"},
                                    {"createTimes": [{"operator": "lt", "value": t(2)}]}, ["j01", "j02"]),
    "createTimes lt a millisecond earlier": ({"createTimes": "lt_2020-01-01T23:59:59.999+0000"},
                                             {"createTimes": [{"operator": "lt",
                                                               "value": "2020-01-01T23:59:59.999Z"}]}, ["j01"]),
    "createTimes range": ({"createTimes": f"gt_{t(2)},lt_{t(3)}"},
                          {"createTimes": [{"operator": "gt", "value": t(2)}, {"operator": "lt", "value": t(3)}]},
                          ["j03", "j04"]),
    "createTimes same operator: last wins": (
        {"createTimes": f"lt_{t(1)},lt_{t(4)}"},
        {"createTimes": [{"operator": "lt", "value": t(1)}, {"operator": "lt", "value": t(4)}]},
        ["j01", "j02", "j03", "j04", "j05"]),
    "createTimes epoch millis in JSON": ({"createTimes": f"gt_{t(4)}"},
                                         {"createTimes": [{"operator": "gt", "value": 1578096000000}]}, ["j06"]),
    "withException (message or stacktrace)": ({"withException": "true"}, {"withException": True},
                                              ["j02", "j03", "j04"]),
    "exceptionMessage is exact": ({"exceptionMessage": "boom"}, None, ["j02"]),
    "exceptionMessage is case sensitive": ({"exceptionMessage": "Boom"}, None, ["j04"]),
    "exceptionMessage no LIKE": ({"exceptionMessage": "boo%"}, None, []),
    "failedActivityId": ({"failedActivityId": "send"}, None, ["j02"]),
    "noRetriesLeft": ({"noRetriesLeft": "true"}, {"noRetriesLeft": True}, ["j02"]),
    "noRetriesLeft false is no filter": ({"noRetriesLeft": "false"}, {"noRetriesLeft": False}, ALL),
    "active": ({"active": "true"}, {"active": True}, ["j01", "j02", "j05", "j06"]),
    "active false is no filter": ({"active": "false"}, {"active": False}, ALL),
    "suspended": ({"suspended": "true"}, {"suspended": True}, ["j03", "j04"]),
    "suspended false is no filter (not 'active')": ({"suspended": "false"}, {"suspended": False}, ALL),
    "active and suspended: suspended wins": ({"active": "true", "suspended": "true"},
                                             {"active": True, "suspended": True}, ["j03", "j04"]),
    "active and suspended false": ({"active": "true", "suspended": "false"},
                                   {"active": True, "suspended": False}, ["j01", "j02", "j05", "j06"]),
    "priorityHigherThanOrEquals is inclusive": ({"priorityHigherThanOrEquals": "5"},
                                                {"priorityHigherThanOrEquals": 5}, ["j01", "j02", "j04"]),
    "priorityLowerThanOrEquals is inclusive": ({"priorityLowerThanOrEquals": "5"},
                                               {"priorityLowerThanOrEquals": 5}, ["j02", "j03", "j05", "j06"]),
    "priority both equal": ({"priorityHigherThanOrEquals": "5", "priorityLowerThanOrEquals": "5"},
                            {"priorityHigherThanOrEquals": 5, "priorityLowerThanOrEquals": 5}, ["j02"]),
    "priority Long min/max": ({"priorityHigherThanOrEquals": str(LONG_MIN), "priorityLowerThanOrEquals": str(LONG_MAX)},
                              {"priorityHigherThanOrEquals": LONG_MIN, "priorityLowerThanOrEquals": LONG_MAX}, ALL),
    "priority exactly Long max": ({"priorityHigherThanOrEquals": str(LONG_MAX)},
                                  {"priorityHigherThanOrEquals": LONG_MAX}, ["j04"]),
    "priority exactly Long min": ({"priorityLowerThanOrEquals": str(LONG_MIN)},
                                  {"priorityLowerThanOrEquals": LONG_MIN}, ["j05"]),
    "priority negative": ({"priorityLowerThanOrEquals": "-1", "priorityHigherThanOrEquals": "-5"},
                          {"priorityLowerThanOrEquals": -1, "priorityHigherThanOrEquals": -5}, ["j03"]),
    "priority excluding range": ({"priorityHigherThanOrEquals": "11", "priorityLowerThanOrEquals": "10"},
                                 {"priorityHigherThanOrEquals": 11, "priorityLowerThanOrEquals": 10}, []),
    "tenantIdIn one": ({"tenantIdIn": "t1"}, {"tenantIdIn": ["t1"]}, ["j01", "j04"]),
    "tenantIdIn two": ({"tenantIdIn": "t1,t2"}, {"tenantIdIn": ["t1", "t2"]}, ["j01", "j02", "j04"]),
    "tenantIdIn repeated (A7)": ({"tenantIdIn": ["t1", "t2"]}, {"tenantIdIn": ["t1", "t2"]}, ["j01", "j02", "j04"]),
    "tenantIdIn unknown": ({"tenantIdIn": "t3"}, {"tenantIdIn": ["t3"]}, []),
    "tenantIdIn empty is ignored": ({"tenantIdIn": ""}, {"tenantIdIn": []}, ALL),
    "withoutTenantId": ({"withoutTenantId": "true"}, {"withoutTenantId": True}, ["j03", "j05", "j06"]),
    "withoutTenantId false is no filter": ({"withoutTenantId": "false"}, {"withoutTenantId": False}, ALL),
    "tenantIdIn + includeJobsWithoutTenantId": ({"tenantIdIn": "t2", "includeJobsWithoutTenantId": "true"},
                                                {"tenantIdIn": ["t2"], "includeJobsWithoutTenantId": True},
                                                ["j02", "j03", "j05", "j06"]),
    "includeJobsWithoutTenantId false": ({"tenantIdIn": "t2", "includeJobsWithoutTenantId": "false"},
                                         {"tenantIdIn": ["t2"], "includeJobsWithoutTenantId": False}, ["j02"]),
    "includeJobsWithoutTenantId alone has no effect": ({"includeJobsWithoutTenantId": "true"},
                                                       {"includeJobsWithoutTenantId": True}, ALL),
    "withoutTenantId wins over tenantIdIn": ({"tenantIdIn": "t1", "withoutTenantId": "true"},
                                             {"tenantIdIn": ["t1"], "withoutTenantId": True}, ["j03", "j05", "j06"]),
    "withoutTenantId wins over tenantIdIn + include": (
        {"tenantIdIn": "t1", "withoutTenantId": "true", "includeJobsWithoutTenantId": "true"},
        {"tenantIdIn": ["t1"], "withoutTenantId": True, "includeJobsWithoutTenantId": True}, ["j03", "j05", "j06"]),
    # A3: combinations Camunda turns into invalid SQL (B.1.9) are simply ANDed.
    "jobId + jobIds": ({"jobId": "j01", "jobIds": "j01,j02"}, {"jobId": "j01", "jobIds": ["j01", "j02"]}, ["j01"]),
    "jobId + disjoint jobIds": ({"jobId": "j01", "jobIds": "j02"}, {"jobId": "j01", "jobIds": ["j02"]}, []),
    "jobIds + activityId": ({"jobIds": "j01,j02,j04", "activityId": "send"},
                            {"jobIds": ["j01", "j02", "j04"], "activityId": "send"}, ["j01", "j04"]),
    "processInstanceId + processInstanceIds": ({"processInstanceId": "pi1", "processInstanceIds": "pi1,pi2"},
                                               {"processInstanceId": "pi1", "processInstanceIds": ["pi1", "pi2"]},
                                               ["j01", "j02"]),
    "processInstanceId + disjoint processInstanceIds": ({"processInstanceId": "pi1", "processInstanceIds": "pi2"},
                                                        {"processInstanceId": "pi1",
                                                         "processInstanceIds": ["pi2"]}, []),
    "timers + withRetriesLeft": ({"timers": "true", "withRetriesLeft": "true"},
                                 {"timers": True, "withRetriesLeft": True}, ["j03"]),
    "executable + tenantIdIn + messages": ({"executable": "true", "tenantIdIn": "t1", "messages": "true"},
                                           {"executable": True, "tenantIdIn": ["t1"], "messages": True},
                                           ["j01", "j04"]),
    "withException + noRetriesLeft": ({"withException": "true", "noRetriesLeft": "true"},
                                      {"withException": True, "noRetriesLeft": True}, ["j02"]),
    "suspended + withoutTenantId": ({"suspended": "true", "withoutTenantId": "true"},
                                    {"suspended": True, "withoutTenantId": True}, ["j03"]),
    "noRetriesLeft + withRetriesLeft": ({"noRetriesLeft": "true", "withRetriesLeft": "true"},
                                        {"noRetriesLeft": True, "withRetriesLeft": True}, []),
    "processDefinitionKey + dueDates + priority": (
        {"processDefinitionKey": "order", "dueDates": f"lt_{FUTURE}", "priorityLowerThanOrEquals": "0"},
        {"processDefinitionKey": "order", "dueDates": [{"operator": "lt", "value": FUTURE}],
         "priorityLowerThanOrEquals": 0}, []),
}


@pytest.mark.parametrize("params, body, expected", CASES.values(), ids=CASES.keys())
def test_filter(client, jobs, params, body, expected):
    assert query(client, params, body) == expected


def test_boolean_spellings_in_get(client, jobs):
    """A7: True/False in any case (generated clients send Python's ``True``)."""
    for spelling in ("true", "True", "TRUE", "tRuE"):
        assert query(client, {"noRetriesLeft": spelling}, {"noRetriesLeft": True}) == ["j02"]
    for spelling in ("false", "False", "FALSE"):
        assert query(client, {"noRetriesLeft": spelling}, {"noRetriesLeft": False}) == ALL


def test_empty_jobids_parameter_matches_nothing(client, jobs):
    """GET ``jobIds=`` is the set {""} (spec B.1.2), unlike the ignored empty ``tenantIdIn=``."""
    assert [j["id"] for j in client.get("/engine-rest/job?jobIds=").get_json()] == []
    assert client.get("/engine-rest/job/count?jobIds=").get_json() == {"count": 0}
    assert client.get("/engine-rest/job/count?processInstanceIds=").get_json() == {"count": 0}
    assert client.get("/engine-rest/job/count?tenantIdIn=").get_json() == {"count": 6}


def test_repeated_scalar_parameter_uses_the_first_value(client, jobs):
    assert [j["id"] for j in client.get("/engine-rest/job?jobId=j02&jobId=j03").get_json()] == ["j02"]


def test_a_body_on_get_is_ignored(client, jobs):
    response = client.get("/engine-rest/job", json={"jobId": "j01"})
    assert [job["id"] for job in response.get_json()] == ALL


def test_job_definition_id(client, jobs):
    definition = jobs["j01"]["jobDefinitionId"]
    # j01 and j06 share key and activity but not the handler type: different definitions.
    assert jobs["j06"]["jobDefinitionId"] != definition
    assert query(client, {"jobDefinitionId": definition}) == ["j01"]
    assert query(client, {"jobDefinitionId": jobs["j03"]["jobDefinitionId"]}) == ["j03"]
    assert query(client, {"jobDefinitionId": "nope"}) == []


def test_job_definition_id_combined_with_job_ids_and_activity_id(client, jobs):
    definition = jobs["j02"]["jobDefinitionId"]
    assert query(client, {"jobDefinitionId": definition, "activityId": "wait"}) == ["j02"]
    assert query(client, {"jobDefinitionId": definition, "activityId": "send"}) == []
    assert query(client, {"jobDefinitionId": definition, "jobIds": "j01,j02"},
                 {"jobDefinitionId": definition, "jobIds": ["j01", "j02"]}) == ["j02"]
    assert query(client, {"jobDefinitionId": definition, "jobId": "j01"}) == []


def test_activity_id_comes_from_the_job_definition(client, make_jobs, jobs):
    """``activityId`` joins the job definition (JD.ACT_ID_), not a column of the job."""
    make_jobs({"id": "j07", "jobDefinitionId": jobs["j01"]["jobDefinitionId"], "activityId": "elsewhere"})
    assert query(client, {"activityId": "send"}) == ["j01", "j04", "j06", "j07"]
    assert query(client, {"activityId": "elsewhere"}) == []
    # A job whose definition does not exist matches no activity.
    make_jobs({"id": "j08", "jobDefinitionId": "missing", "activityId": "send"})
    assert query(client, {"activityId": "send"}) == ["j01", "j04", "j06", "j07"]


def test_activity_id_follows_a_changed_job_definition(client, app_context, jobs):
    db.session.execute(update(JobDefinition.__table__)
                       .where(JobDefinition.__table__.c.id == jobs["j02"]["jobDefinitionId"])
                       .values(activity_id="renamed"))
    db.session.commit()
    assert query(client, {"activityId": "wait"}) == ["j03"]
    assert query(client, {"activityId": "renamed"}) == ["j02"]


def test_executable_uses_the_current_time(client, make_jobs):
    now = utcnow()
    make_jobs(
        {"id": "a-past", "dueDate": format_date(now - timedelta(minutes=1))},
        {"id": "b-future", "dueDate": format_date(now + timedelta(minutes=5))},
        {"id": "c-null"},
        {"id": "d-past-no-retries", "dueDate": format_date(now - timedelta(minutes=1)), "retries": 0},
        {"id": "e-past-suspended", "dueDate": format_date(now - timedelta(days=1)), "suspended": True},
    )
    assert query(client, {"executable": "true"}, {"executable": True}) == ["a-past", "c-null", "e-past-suspended"]


def _lock(job_id, owner, expiration):
    table = Job.__table__
    db.session.execute(update(table).where(table.c.id == job_id)
                       .values(lock_owner=owner, lock_expiration_time=expiration))
    db.session.commit()


def test_acquired(client, app_context, jobs):
    now = utcnow()
    _lock("j01", "worker-1", now + timedelta(minutes=5))
    _lock("j02", "worker-1", now - timedelta(minutes=5))  # expired lock
    _lock("j03", None, now + timedelta(hours=1))
    _lock("j04", "worker-2", None)  # an owner without an expiration is not acquired
    assert query(client, {"acquired": "true"}, {"acquired": True}) == ["j01", "j03"]
    assert query(client, {"acquired": "True"}, {"acquired": True}) == ["j01", "j03"]
    assert query(client, {"acquired": "false"}, {"acquired": False}) == ALL
    # acquired ignores suspension (j03 is suspended) and combines with the rest.
    assert query(client, {"acquired": "true", "suspended": "true"}, {"acquired": True, "suspended": True}) == ["j03"]
    assert query(client, {"acquired": "true", "tenantIdIn": "t1"}, {"acquired": True, "tenantIdIn": ["t1"]}) == ["j01"]
    rows = db.session.execute(select(Job.__table__.c.id)).scalars().all()
    assert sorted(rows) == ALL  # the query did not touch the rows


def test_the_same_results_under_the_default_engine_path(client, jobs):
    for base in BASES:
        assert query(client, {"tenantIdIn": "t1,t2"}, {"tenantIdIn": ["t1", "t2"]}, base=base) == ["j01", "j02", "j04"]
        assert query(client, {"processDefinitionKey": "order"}, base=base) == ["j03", "j04"]


def _kitchen_sink(jobs):
    """Every filter at once, all matching j04 (GET params, POST body)."""
    definition = jobs["j04"]["jobDefinitionId"]
    params = {
        "jobId": "j04", "jobIds": "j04,j01", "jobDefinitionId": definition, "processInstanceId": "pi3",
        "processInstanceIds": "pi3,pi1", "executionId": "ex4", "processDefinitionId": "order:2",
        "processDefinitionKey": "order", "activityId": "send", "withRetriesLeft": "true", "executable": "true",
        "messages": "true", "dueDates": f"gt_{PAST},lt_{FUTURE}", "createTimes": f"gt_{t(2)},lt_{t(3)}",
        "withException": "true", "exceptionMessage": "Boom", "failedActivityId": "check", "suspended": "true",
        "priorityHigherThanOrEquals": str(LONG_MAX), "priorityLowerThanOrEquals": str(LONG_MAX),
        "tenantIdIn": "t1", "acquired": "true",
    }
    body = {
        **params, "jobIds": ["j04", "j01"], "processInstanceIds": ["pi3", "pi1"], "withRetriesLeft": True,
        "executable": True, "messages": True, "withException": True, "suspended": True, "acquired": True,
        "dueDates": [{"operator": "gt", "value": PAST}, {"operator": "lt", "value": FUTURE}],
        "createTimes": [{"operator": "gt", "value": t(2)}, {"operator": "lt", "value": t(3)}],
        "priorityHigherThanOrEquals": LONG_MAX, "priorityLowerThanOrEquals": LONG_MAX, "tenantIdIn": ["t1"],
    }
    return params, body


# One filter changed so that it excludes j04: the whole query must come back empty.
EXCLUDING = {
    "jobId": ("j01", "j01"),
    "jobIds": ("j01,j02", ["j01", "j02"]),
    "jobDefinitionId": ("other", "other"),
    "processInstanceId": ("pi1", "pi1"),
    "processInstanceIds": ("pi1", ["pi1"]),
    "executionId": ("ex1", "ex1"),
    "processDefinitionId": ("order:1", "order:1"),
    "processDefinitionKey": ("invoice", "invoice"),
    "activityId": ("wait", "wait"),
    "messages": (None, None, {"timers": "true"}, {"timers": True}),
    "dueDates": (f"gt_{PAST_LATER}", [{"operator": "gt", "value": PAST_LATER}]),
    "createTimes": (f"lt_{t(2)}", [{"operator": "lt", "value": t(2)}]),
    "exceptionMessage": ("boom", "boom"),
    "failedActivityId": ("send", "send"),
    "suspended": (None, None, {"active": "true"}, {"active": True}),
    "priorityLowerThanOrEquals": ("0", 0),
    "tenantIdIn": ("t2", ["t2"]),
    "withoutTenantId": (None, None, {"withoutTenantId": "true"}, {"withoutTenantId": True}),
    "noRetriesLeft": (None, None, {"noRetriesLeft": "true"}, {"noRetriesLeft": True}),
}


def test_all_filters_at_once(client, app_context, jobs):
    _lock("j04", "worker", utcnow() + timedelta(minutes=5))
    params, body = _kitchen_sink(jobs)
    assert query(client, params, body) == ["j04"]


@pytest.mark.parametrize("name", EXCLUDING)
def test_all_filters_at_once_with_one_excluding(client, app_context, jobs, name):
    _lock("j04", "worker", utcnow() + timedelta(minutes=5))
    params, body = _kitchen_sink(jobs)
    change = EXCLUDING[name]
    if change[0] is None:  # drop the filter, add another
        params.pop(name, None)
        body.pop(name, None)
        params.update(change[2])
        body.update(change[3])
    else:
        params[name], body[name] = change
    assert query(client, params, body) == []


def test_all_filters_at_once_without_the_lock(client, jobs):
    params, body = _kitchen_sink(jobs)
    assert query(client, params, body) == []


def test_job_dto_key_order_and_nulls_on_every_endpoint(client, make_jobs):
    """15 keys in JobDto order, absent values written as null (spec B.1.10), whichever path wrote them."""
    created = make_jobs({"id": "bare"})[0]
    expected_text = (
        '{"id":"bare","jobDefinitionId":"%s","dueDate":null,"processInstanceId":null,"executionId":null,'
        '"processDefinitionId":null,"processDefinitionKey":null,"retries":3,"exceptionMessage":null,'
        '"failedActivityId":null,"suspended":false,"priority":0,"tenantId":null,"createTime":"%s","batchId":null}'
        % (created["jobDefinitionId"], created["createTime"]))
    for base in BASES:
        for method, url, kwargs in (
            ("get", f"{base}/job", {}),
            ("get", f"{base}/job?maxResults=5", {}),
            ("post", f"{base}/job", {"json": {}}),
            ("post", f"{base}/job?firstResult=0&maxResults=1", {"json": {}}),
            ("get", f"{base}/job/bare", {}),
        ):
            text = getattr(client, method)(url, **kwargs).get_data(as_text=True)
            assert text in (expected_text, f"[{expected_text}]"), (url, text)
