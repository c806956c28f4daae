"""Production's defaults are the safe ones: the demo handlers are off unless asked for.

Settings are read from the environment when ``config.settings`` is imported, so each case
builds the app in a fresh interpreter with exactly the environment it names. Nothing connects:
``create_app`` opens no database or broker connection.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO_HANDLERS = ["demo.fail-until", "demo.noop", "demo.sleep"]
BUILDS_THE_APP = """
import json
from app import create_app
app = create_app()
print(json.dumps({"setting": app.config["JOB_DEMO_HANDLERS"],
                  "demo": sorted(name for name in app.extensions["job_handlers"] if name.startswith("demo."))}))
"""
PRODUCTION = {
    "APP_ENV": "production",
    # Never connected to: the app is only built.
    "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/jobservice",
    "REDIS_URL": "redis://127.0.0.1:1/0",
}


def app_built_with(tmp_path, **env):
    clean = {key: value for key, value in os.environ.items()
             if key not in ("APP_ENV", "DATABASE_URL", "REDIS_URL", "JOB_DEMO_HANDLERS", "JOB_HANDLER_MODULES")}
    clean.update(env, INSTANCE_DIR=str(tmp_path / "instance"), PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", BUILDS_THE_APP], cwd=ROOT, env=clean,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_production_has_no_demo_handlers_by_default(tmp_path):
    assert app_built_with(tmp_path, **PRODUCTION) == {"setting": False, "demo": []}


@pytest.mark.parametrize("value, expected", [("true", DEMO_HANDLERS), ("false", [])])
def test_production_demo_handlers_follow_the_variable(tmp_path, value, expected):
    built = app_built_with(tmp_path, **PRODUCTION, JOB_DEMO_HANDLERS=value)
    assert built["demo"] == expected


def test_the_embedded_default_keeps_the_demo_handlers(tmp_path):
    # APP_ENV unset: development, what `make run` and the README's walk-through use.
    assert app_built_with(tmp_path) == {"setting": True, "demo": DEMO_HANDLERS}


def test_the_test_suite_keeps_the_demo_handlers(app):
    assert sorted(name for name in app.extensions["job_handlers"] if name.startswith("demo.")) == DEMO_HANDLERS
