"""Running Odoo for the project's scripts, and reading what it logged."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import bootstrap

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) (?P<db>\S+) (?P<logger>\S+): ")
TEST_SUMMARY = re.compile(r"(?P<failed>\d+) failed, (?P<errors>\d+) error\(s\) of (?P<total>\d+) tests")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def odoo_command(env, database, *args):
    return [
        env["python"],
        env["odoo_bin"],
        "-d",
        database,
        f"--addons-path={env['addons_path']}",
        "--db-filter",
        f"^{re.escape(database)}$",
        *args,
    ]


def server_environ(env, base=None):
    """The environment to start an Odoo server in, so that a restart comes back.

    Odoo's watchdog (a thread past its real time limit, a memory limit) restarts the
    server by re-executing ``basename(sys.executable)``, i.e. ``python``, which the new
    process looks up on the PATH: the venv's ``bin`` goes first, or the restart runs a
    Python without Odoo's requirements and dies.
    """
    environ = dict(os.environ if base is None else base)
    venv_bin = os.path.dirname(env["python"])
    environ["PATH"] = os.pathsep.join([venv_bin, *[p for p in environ.get("PATH", "").split(os.pathsep) if p]])
    environ.pop("PYTHONHOME", None)
    return environ


def wait_until_up(url, timeout=120, process=None):
    """True once ``url`` answers with a success; False when ``timeout`` passes or ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (process is None or process.poll() is None):
        try:
            with urllib.request.urlopen(url, timeout=5):
                return True
        except OSError:  # not listening yet, still loading, or an error status
            time.sleep(0.3)
    return False


def run_logged(command, log_path):
    """Run ``command``, echo its output and keep it in ``log_path``; return the exit code."""
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in process.stdout:
            sys.stdout.write(line)
            log.write(line)
        return process.wait()


def summarize_odoo_log(text):
    """Counts from an Odoo test run's log: tests run, failed, and ERROR/CRITICAL lines."""
    summary = {"tests": 0, "failed": 0, "errors": 0, "error_lines": []}
    for line in text.splitlines():
        match = TEST_SUMMARY.search(line)
        if match and "when loading database" in line:
            summary["tests"] = int(match["total"])
            summary["failed"] = int(match["failed"])
            summary["errors"] = int(match["errors"])
        log = LOG_LINE.match(line)
        if log and log["level"] in ("ERROR", "CRITICAL"):
            summary["error_lines"].append(line)
    return summary


def drop_database(env, database):
    subprocess.run(
        [
            env["python"],
            "-c",
            (
                "import psycopg2, sys\n"
                "conn = psycopg2.connect(dbname='postgres'); conn.autocommit = True\n"
                "conn.cursor().execute('DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)' % sys.argv[1])\n"
            ),
            database,
        ],
        check=True,
    )


def prepared_env():
    try:
        return bootstrap.prepare()
    except bootstrap.SetupError as exc:
        sys.exit(f"[setup] {exc}")


os.environ.setdefault("PYTHONUNBUFFERED", "1")
