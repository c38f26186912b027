"""The whole test suite: addon tests in a real Odoo 18, then the top-level tests/.

Creates a fresh database, installs every addon of the repository with
--test-enable, runs their tests, then runs pytest on tests/. Prints
``N passed, M failed`` and exits non-zero on any failure, error, or ERROR logged by
Odoo during install and tests.
"""

import argparse
import fcntl
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import bootstrap
from odoo_run import drop_database, free_port, odoo_command, prepared_env, run_logged, summarize_odoo_log

ODOO_SUITES = ("sale_stock",)
# installed beside the addons, as in a European company's Odoo: customers' VAT numbers checked
ODOO_MODULES = ("base_vat",)


def run_odoo_tests(env, database, log_dir, tags=None):
    addons = ",".join(env["addons"])
    # with Odoo's own sale_stock tests: deliveries, reservations and returns must work as
    # before with the addons installed
    tags = tags or ",".join([f"/{addon}" for addon in env["addons"]] + [f"/{odoo_suite}" for odoo_suite in ODOO_SUITES])
    command = odoo_command(
        env,
        database,
        "-i",
        ",".join([addons, *ODOO_MODULES]),
        "--test-enable",
        f"--test-tags={tags}",
        "--stop-after-init",
        "--without-demo=all",
        "--log-level=test",
        f"--http-port={free_port()}",
        "--max-cron-threads=0",
        f"--screenshots={log_dir}",
    )
    print(f"[test] installing and testing {addons} in database {database}", flush=True)
    code = run_logged(command, log_dir / "odoo.log")
    summary = summarize_odoo_log((log_dir / "odoo.log").read_text())
    summary["exit_code"] = code
    return summary


def run_pytest(env, database, log_dir):
    tests_dir = bootstrap.REPO / "tests"
    if not any(tests_dir.glob("**/test_*.py")):
        return {"passed": 0, "failed": 0, "exit_code": 0}
    report = log_dir / "pytest.xml"
    environ = dict(
        os.environ,
        SMC_TEST_DB=database,
        SMC_ODOO_SRC=env["odoo_src"],
        SMC_ADDONS_PATH=env["addons_path"],
        SMC_PYTHON=env["python"],
    )
    code = subprocess.run(
        [env["python"], "-m", "pytest", str(tests_dir), "-q", f"--junitxml={report}"], env=environ, cwd=bootstrap.REPO
    ).returncode
    if not report.exists():
        return {"passed": 0, "failed": 1, "exit_code": code}
    suite = ET.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    total, failed = int(suite.get("tests")), int(suite.get("failures")) + int(suite.get("errors"))
    skipped = int(suite.get("skipped", 0))
    return {"passed": total - failed - skipped, "failed": failed, "exit_code": 0 if code in (0, 5) else code}


def one_run_at_a_time():
    """Hold the machine's test lock: two Odoo test runs at once would only slow each other
    down and make timing-sensitive scenarios flaky."""
    lock = open(bootstrap.cache_dir() / "test-run.lock", "w")  # noqa: SIM115 - held until the run ends
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("[test] another test run is going on: waiting for it", flush=True)
        fcntl.flock(lock, fcntl.LOCK_EX)
    return lock


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the test database afterwards")
    parser.add_argument("--tags", help="Odoo --test-tags instead of all (e.g. /stock_multichannel_shop)")
    parser.add_argument("--no-pytest", action="store_true", help="skip the top-level tests/ scenarios")
    args = parser.parse_args()
    started = time.time()
    env = prepared_env()
    lock = one_run_at_a_time()
    database = f"smc_test_{os.getpid()}"
    log_dir = Path(os.environ.get("SMC_LOG_DIR", bootstrap.cache_dir() / "logs" / database))
    log_dir.mkdir(parents=True, exist_ok=True)
    drop_database(env, database)
    try:
        odoo = run_odoo_tests(env, database, log_dir, args.tags)
        pytest = {"passed": 0, "failed": 0, "exit_code": 0} if args.no_pytest else run_pytest(env, database, log_dir)
    finally:
        if not args.keep:
            drop_database(env, database)
        lock.close()
    problems = []
    if odoo["exit_code"]:
        problems.append(f"Odoo exited with {odoo['exit_code']}")
    if odoo["tests"] == 0:
        problems.append("Odoo ran no test")
    if odoo["error_lines"]:
        problems.append(f"{len(odoo['error_lines'])} ERROR lines in the Odoo log:")
        problems += ["    " + line[:300] for line in odoo["error_lines"][:20]]
    if pytest["exit_code"]:
        problems.append(f"pytest exited with {pytest['exit_code']}")
    failed = odoo["failed"] + odoo["errors"] + pytest["failed"]
    passed = max(0, odoo["tests"] - odoo["failed"] - odoo["errors"]) + pytest["passed"]
    if problems and not failed:
        failed = 1
    print(
        f"\n[test] Odoo: {odoo['tests']} tests, {odoo['failed']} failed, {odoo['errors']} errors; "
        f"pytest: {pytest['passed']} passed, {pytest['failed']} failed; {time.time() - started:.0f}s; "
        f"logs in {log_dir}"
    )
    for screenshot in sorted(log_dir.glob("**/stock_multichannel/*.png")):
        print(f"[test] screenshot: {screenshot}")
    for problem in problems:
        print(f"[test] {problem}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or problems else 0)


if __name__ == "__main__":
    main()
