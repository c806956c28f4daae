"""The basic wiring: both base paths, JobDto keys, ingestion round trip."""

JOB_DTO_KEYS = [
    "id", "jobDefinitionId", "dueDate", "processInstanceId", "executionId", "processDefinitionId",
    "processDefinitionKey", "retries", "exceptionMessage", "failedActivityId", "suspended", "priority",
    "tenantId", "createTime", "batchId",
]


def test_created_job_is_listed_under_both_base_paths(client, make_jobs):
    created = make_jobs({"priority": 5, "tenantId": "t1"})
    assert list(created[0].keys()) == JOB_DTO_KEYS
    for base in ("/engine-rest", "/engine-rest/engine/default"):
        listed = client.get(f"{base}/job").get_json()
        assert [job["id"] for job in listed] == [created[0]["id"]]
        assert listed[0]["priority"] == 5 and listed[0]["tenantId"] == "t1"


def test_ingestion_wakes_the_executor_after_commit(client, make_jobs, dispatched):
    make_jobs({})
    assert dispatched.names() == ["executor.acquire"]
