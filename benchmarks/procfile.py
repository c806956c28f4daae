"""The Procfile's lines, as the harness runs them.

The harness reads a line by its process type, exactly as the Makefile's ``procfile`` macro
does (``name: command``), and hands it to ``sh -c`` unchanged but for two things, both
printed in the report: ``exec`` before the command of ``web`` and ``worker``, so that the
shell becomes the service process (gunicorn, Celery) and the process tree is the service's own; and, for ``web``, the
bind address 127.0.0.1 instead of 0.0.0.0 (no traffic leaves the machine); a worker also gets
a node name (``-n``), as separate dynos would have separate host names. ``${VAR:-default}``
is left to the shell: the harness never reads the defaults itself (:func:`as_run` asks the
shell what a line expands to, for the report).
"""

import re
import subprocess

from benchmarks.common import ROOT, BenchError

PROCFILE = ROOT / "Procfile"
LEADING_ASSIGNMENTS = re.compile(r"^((?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*)")


def command(process_type):
    """The command of the Procfile line ``process_type: command``."""
    for line in PROCFILE.read_text().splitlines():
        if line.startswith(f"{process_type}:"):
            return line.split(":", 1)[1].strip()
    raise BenchError(f"the Procfile has no '{process_type}:' line")


def _exec_form(line):
    """``A=1 B=2 cmd args`` -> ``A=1 B=2 exec cmd args``: the shell becomes the process."""
    return LEADING_ASSIGNMENTS.sub(lambda match: f"{match.group(1)}exec ", line, count=1)


def web_command():
    line = command("web")
    if "0.0.0.0" not in line:
        raise BenchError("the Procfile web line binds no 0.0.0.0 address; cannot move it to 127.0.0.1")
    return _exec_form(line.replace("0.0.0.0", "127.0.0.1"))


def worker_command(node_name):
    return _exec_form(command("worker") + f" -n {node_name}@%h")


def release_command():
    """The release line as written: it runs to completion, and it is two commands (``db upgrade
    && users bootstrap``), so an ``exec`` would end the shell after the first."""
    return command("release")


def as_run(line, env):
    """``line`` with its variables expanded by the shell in ``env``, as the process sees it."""
    script = 'eval "set -- $1"; printf "%s " "$@"'
    result = subprocess.run(["sh", "-c", script, "sh", line], env=env, capture_output=True, text=True, timeout=10)
    return result.stdout.strip().replace("exec ", "", 1) or line
