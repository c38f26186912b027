"""The set-up and test tooling itself: how it finds Odoo and reads Odoo's log."""

import os
import subprocess
import sys

import bootstrap
import pytest
from odoo_run import summarize_odoo_log

LOG = """\
2026-11-26 23:28:51,516 7079 INFO db odoo.service.server: Starting post tests
2026-11-26 23:28:52,788 7079 ERROR db odoo.addons.x.tests.test_a: FAIL: TestA.test_b
Traceback (most recent call last):
AssertionError: 1 != 2
2026-11-26 23:28:52,790 7079 WARNING db odoo.models: something odd
2026-11-26 23:39:41,209 7919 ERROR db odoo.tests.result: 1 failed, 2 error(s) of 73 tests when loading database 'db'
"""


def test_log_summary_counts_tests_and_error_lines():
    summary = summarize_odoo_log(LOG)
    assert (summary["tests"], summary["failed"], summary["errors"]) == (73, 1, 2)
    assert len(summary["error_lines"]) == 2
    assert "FAIL: TestA.test_b" in summary["error_lines"][0]


def test_a_clean_log_has_no_error_lines():
    clean = (
        "2026-11-26 23:39:41,209 1 INFO db odoo.tests.result: "
        "0 failed, 0 error(s) of 5 tests when loading database 'db'\n"
    )
    assert summarize_odoo_log(clean) == {"tests": 5, "failed": 0, "errors": 0, "error_lines": []}


def test_a_log_without_summary_reports_no_tests():
    assert (
        summarize_odoo_log("2026-11-26 23:39:41,209 1 CRITICAL db odoo.service.server: Failed to initialize\n")["tests"]
        == 0
    )


def test_odoo_src_must_be_an_odoo_tree(tmp_path, monkeypatch):
    monkeypatch.setenv("ODOO_SRC", str(tmp_path))
    with pytest.raises(bootstrap.SetupError, match="not an Odoo source tree"):
        bootstrap.find_odoo_source()


def test_odoo_src_is_used_when_valid(monkeypatch):
    odoo_src = os.environ.get("SMC_ODOO_SRC")
    if not odoo_src:
        pytest.skip("run through setup/test.py, which prepares Odoo")
    monkeypatch.setenv("ODOO_SRC", odoo_src)
    found = bootstrap.find_odoo_source()
    assert str(found) == odoo_src
    assert bootstrap.odoo_version(found) == "18.0"


def test_the_addons_in_the_repository_are_found():
    assert "stock_multichannel" in bootstrap.addon_dirs()


def test_setup_explains_a_missing_database_server():
    python = os.environ.get("SMC_PYTHON")
    if not python:
        pytest.skip("run through setup/test.py, which prepares the venv")
    env = dict(os.environ, PGHOST="127.0.0.1", PGPORT="1")  # nothing listens on port 1
    code = "import bootstrap; bootstrap.check_postgres(%r)" % python
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=bootstrap.REPO / "setup"
    )
    assert result.returncode != 0
    assert "PostgreSQL is not reachable" in result.stderr


REEXEC_PROBE = """\
import os, sys
if os.environ.get("SMC_REEXECUTED"):
    import babel  # one of Odoo's requirements: only in the venv
    print("restarted in", sys.prefix)
else:
    os.environ["SMC_REEXECUTED"] = "1"
    from odoo.service import server
    server._reexec()  # what Odoo's watchdog does after a thread's real time limit
"""


def test_a_watchdog_restart_comes_back_in_the_venv(tmp_path):
    """Odoo restarts itself by re-executing the venv's binary as ``python``, and the new process finds
    its prefix through ``python`` on the PATH: another one there (a decoy here, the system's in the
    demo of issue #16) restarts Odoo without its requirements. The demo's server environment puts the
    venv's first."""
    python, odoo_src = os.environ.get("SMC_PYTHON"), os.environ.get("SMC_ODOO_SRC")
    if not python or not odoo_src:
        pytest.skip("run through setup/test.py, which prepares the venv and Odoo")
    from odoo_run import server_environ

    decoy = tmp_path / "bin"
    decoy.mkdir()
    (decoy / "python").write_text("#!/bin/sh\nexit 3\n")
    (decoy / "python").chmod(0o755)
    probe = tmp_path / "probe.py"
    probe.write_text(REEXEC_PROBE)
    base = dict(os.environ, PATH=f"{decoy}{os.pathsep}/usr/bin{os.pathsep}/bin", PYTHONPATH=odoo_src)
    base.pop("SMC_REEXECUTED", None)

    plain = subprocess.run([python, str(probe)], env=base, capture_output=True, text=True, cwd=tmp_path)
    assert plain.returncode != 0, "without it the restarted process is not in the venv"
    assert "No module named 'babel'" in plain.stderr

    served = subprocess.run(
        [python, str(probe)], env=server_environ({"python": python}, base), capture_output=True, text=True, cwd=tmp_path
    )
    assert served.returncode == 0, served.stderr
    assert f"restarted in {os.path.dirname(os.path.dirname(python))}" in served.stdout


def test_the_demo_says_when_odoo_stopped():
    import demo

    stopped = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(7)"])
    stopped.wait()
    with pytest.raises(demo.OdooStopped) as raised:
        demo.order_generator({"shop": "http://127.0.0.1:9"}, every=60, server=stopped)
    assert raised.value.args == (7,)
