"""Counted work: the CPU instructions an operation costs, in Odoo's process and in the
PostgreSQL server, counted by valgrind's callgrind.

A count does not move with the machine's load or speed, where a timing does by more
than the few per cent a benchmark wants to tell apart. What it leaves out: time spent
waiting (round trips, disk) and the kernel's work, which the statement count and the
timings show instead.

- ``PrivateCluster``: a PostgreSQL server of the benchmark's own (the system's is left
  alone), started plain to create the data, then under callgrind to count. Every
  backend dumps its count when it enters ``pg_sleep``, which Odoo never calls: a
  ``SELECT pg_sleep(0)`` sent before and after an operation on each of its connections
  brackets what that backend did for it.
- ``Counter``: the same inside Odoo's process, started under callgrind with its
  instrumentation off (``callgrind_command``) and switched on once the registries are
  loaded, through callgrind's client requests from a small C library built here.
"""

import ctypes
import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SERVER_MARKER = "pg_sleep"
CLIENT_REQUESTS = r"""
#include <valgrind/callgrind.h>
void counted_start(void) { CALLGRIND_START_INSTRUMENTATION; }
void counted_zero(void) { CALLGRIND_ZERO_STATS; }
void counted_dump(const char *label) { CALLGRIND_DUMP_STATS_AT(label); }
"""


class CountingUnavailable(Exception):
    """What is missing to count instructions here, with what to do about it."""


def check_tools():
    needed = (("valgrind", "valgrind"), ("gcc", "gcc"), ("pg_config", "postgresql-server-dev or libpq-dev"))
    for tool, package in needed:
        if not shutil.which(tool):
            raise CountingUnavailable(f"{tool} is not installed (Debian package {package}).")
    if not Path("/usr/include/valgrind/callgrind.h").is_file():
        raise CountingUnavailable("valgrind's headers (callgrind.h) are missing (Debian package valgrind).")


def callgrind_total(path):
    """The instructions (Ir) counted in one callgrind dump file: its ``totals:`` line,
    the sum of the cost table, which a zero request clears for every thread. (The
    ``summary:`` line adds up each thread's count since that thread's own last dump or
    zero: a thread that never asks, such as Odoo's cron notifier, would bring in
    everything it did since it started.)"""
    with open(path) as dump:
        for line in dump:
            if line.startswith("totals:"):
                return int(line.split()[1])
    raise ValueError(f"no total in {path}")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateCluster:
    """A PostgreSQL server (``pg_config``'s) in a temporary directory, reached through its
    own socket directory and port (``environ()``); autovacuum off, so that nothing but
    the benchmark's statements runs in it."""

    def __init__(self):
        bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        self.bin = Path(bindir)
        if not (self.bin / "initdb").is_file():
            raise CountingUnavailable(f"no PostgreSQL server in {bindir} (Debian package postgresql).")
        self.root = Path(tempfile.mkdtemp(prefix="smc_counted_"))
        self.data = self.root / "data"
        self.counts = self.root / "counts"
        self.port = _free_port()
        self.role = getpass.getuser()
        self.process = None
        # PostgreSQL refuses to run as root: as ``postgres`` then, which owns the directory
        self.owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.counts.mkdir()
        if self.owner:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.counts, "postgres")
            self.root.chmod(0o755)

    def environ(self):
        return {"PGHOST": str(self.root), "PGPORT": str(self.port), "PGUSER": self.role}

    def init(self):
        subprocess.run(
            [*self.owner, self.bin / "initdb", "-D", self.data, "-U", self.role, "--auth=trust", "--locale=C.UTF-8"],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self, counted=False):
        server = [
            self.bin / "postgres",
            *("-D", self.data, "-p", str(self.port), "-k", self.root),
            *("-c", "listen_addresses=", "-c", "autovacuum=off", "-c", "fsync=off"),
        ]
        if counted:
            server = [
                "valgrind",
                "--quiet",
                "--tool=callgrind",
                "--vgdb=no",
                f"--dump-before={SERVER_MARKER}",
                f"--callgrind-out-file={self.counts}/backend.%p",
                *server,
            ]
        log = open(self.root / "server.log", "ab")  # noqa: SIM115 - the server's, closed in stop()
        self.process = subprocess.Popen([*self.owner, *server], stdout=log, stderr=subprocess.STDOUT)
        self._log = log
        deadline = time.monotonic() + (300 if counted else 60)
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [self.bin / "pg_isready", "-h", self.root, "-p", str(self.port), "-d", "postgres"],
                capture_output=True,
            )
            if ready.returncode == 0:
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.5)
        raise CountingUnavailable(f"the private PostgreSQL did not start:\n{self.log_tail()}")

    def log_tail(self, lines=20):
        try:
            return "\n".join((self.root / "server.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self):
        if self.process:
            for mode in ("fast", "immediate"):
                if self.process.poll() is not None:
                    break
                subprocess.run(
                    [*self.owner, self.bin / "pg_ctl", "-D", self.data, "stop", "-m", mode, "-w", "-t", "120"],
                    check=False,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                try:
                    self.process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    continue
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._log.close()
        self.process = None

    def remove(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def backend_count(counts_dir, pid, number):
    """What backend ``pid`` of a server started with ``counted`` did between its
    (``number`` - 1)-th and ``number``-th ``SELECT pg_sleep(0)``."""
    path = Path(counts_dir) / f"backend.{pid}.{number}"
    if not path.exists():
        raise CountingUnavailable(f"backend {pid} dumped no count {number}: does this server export {SERVER_MARKER}?")
    return callgrind_total(path)


def callgrind_command(counts_dir):
    """The prefix that runs a Python process under callgrind, counting nothing until it
    asks (``Counter.start``)."""
    return [
        "valgrind",
        "--quiet",
        "--tool=callgrind",
        "--instr-atstart=no",
        "--vgdb=no",
        f"--callgrind-out-file={counts_dir}/odoo.%p",
    ]


class Counter:
    """Instructions of this process (all its threads), from callgrind's client requests."""

    def __init__(self, counts_dir):
        self.counts = Path(counts_dir)
        source = self.counts / "client_requests.c"
        library = self.counts / "client_requests.so"
        source.write_text(CLIENT_REQUESTS)
        subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", library, source], check=True)
        self.requests = ctypes.CDLL(str(library))
        self.dumped = 0

    def start(self):
        self.requests.counted_start()

    def zero(self):
        self.requests.counted_zero()

    def dump(self):
        """The instructions since the last ``zero`` or ``dump``."""
        self.requests.counted_dump(b"counted")
        self.dumped += 1
        return callgrind_total(self.counts / f"odoo.{os.getpid()}.{self.dumped}")
