"""A test session leaves no broker folders behind (tests/e2e/conftest.py ``broker_folder``).

A pytest run in a subprocess, with the suite's fixtures loaded as plugins and a SQLite
database of its own (the session fixture resets its database, so it must never share this
run's), uses the e2e app, which creates the broker folder and its ``-control`` sibling; once the
run is over, both must be gone.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
USES_THE_BROKER = '''
import os


def test_records_the_broker_folders(e2e_app, broker_folder):
    control = broker_folder + "-control"
    assert os.path.isdir(broker_folder) and os.path.isdir(control)
    with open(os.environ["RECORD_TO"], "w") as record:
        record.write(broker_folder + "\\n" + control + "\\n")
'''


def test_the_e2e_broker_folders_are_removed_at_session_end(tmp_path):
    test_file = tmp_path / "test_uses_the_broker.py"
    test_file.write_text(USES_THE_BROKER)
    record = tmp_path / "folders.txt"
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL", "TEST_REDIS_URL", "APP_ENV", "BROKER_FOLDER")}
    env.update(TEST_DATABASE_URL=f"sqlite:///{tmp_path / 'own.sqlite'}", RECORD_TO=str(record),
               INSTANCE_DIR=str(tmp_path / "instance"), PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(test_file), "-p", "tests.conftest", "-p", "tests.e2e.conftest",
         "-c", str(ROOT / "setup.cfg"), "--rootdir", str(ROOT), "--basetemp", str(tmp_path / "basetemp"),
         "-p", "no:cacheprovider", "-q"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    folders = record.read_text().split()
    assert len(folders) == 2
    assert [folder for folder in folders if os.path.exists(folder)] == []
