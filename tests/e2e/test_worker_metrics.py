"""WORKER_METRICS_PORT: a real Celery worker serves the metrics its pool children write (spec A22)."""

import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import wait_for

PORT = 8107  # 81NN: this branch's port range
TOKEN = "worker-scrape-token"


def scrape(token=TOKEN):
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}/metrics", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.read().decode()


def executions(text, handler_type):
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (sample.name == "jobservice_job_execution_duration_seconds_count"
                    and sample.labels == {"handler_type": handler_type, "outcome": "done"}):
                return sample.value
    return 0


def test_a_worker_serves_the_executions_of_its_pool_children(e2e_client, start_worker):
    start_worker(WORKER_METRICS_PORT=PORT, METRICS_TOKEN=TOKEN)
    response = e2e_client.post("/api/jobs", json=[{"handlerType": "demo.noop"} for _ in range(6)])
    assert response.status_code == 201, response.get_json()

    def all_counted():
        try:
            return executions(scrape(), "demo.noop") == 6
        except OSError:  # the endpoint starts with the worker
            return False

    wait_for(all_counted, timeout=60, message="6 executions in the worker's metrics")
    try:
        scrape(token="wrong")
        raise AssertionError("a wrong token was let in")
    except urllib.error.HTTPError as error:
        assert error.code == 401
