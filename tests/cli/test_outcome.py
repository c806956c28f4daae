"""``flask jobs outcome <batchId>`` and the outcome ``retries --watch`` prints (A19)."""

import json

from app.extensions import db
from tests.support import drain_jobs

FAR_FUTURE = "2999-01-01T00:00:00.000+0000"


def test_outcome_after_the_revived_jobs_ran(app, client, cli, make_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "JOB_RETRY_DELAY_SECONDS", 0.0)
    healed = [job["id"] for job in make_jobs({}, {}, retries=0)]
    broken = [job["id"] for job in make_jobs(
        {}, retries=0, handlerType="demo.fail-until",
        handlerConfiguration={"failUntil": FAR_FUTURE, "message": "quota exceeded"})]
    batch = client.post("/engine-rest/job/retries", json={"jobIds": healed + broken, "retries": 1}).get_json()
    with app.app_context():
        drain_jobs()
        db.session.remove()
    result = cli("outcome", batch["id"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "outcome: 3 jobs revived (0 skipped): 2 succeeded, 1 failed again, 0 not run yet",
        "         1  quota exceeded",
    ]
    as_json = cli("outcome", batch["id"], "--json")
    assert json.loads(as_json.output) == client.get(f"/engine-rest/history/batch/{batch['id']}/outcome").get_json()


def test_outcome_of_an_unknown_batch_is_a_clean_error(cli):
    result = cli("outcome", "nope")
    assert result.exit_code == 1
    assert "no historic batch with id 'nope'" in result.output
