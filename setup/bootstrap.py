"""Find or prepare everything the addons need to run: Odoo 18.0 source, a Python
virtual environment with Odoo's requirements and ours, and a PostgreSQL server.

Standard library only, so any ``python3`` can run it before the venv exists.
"""

import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ODOO_BRANCH = "18.0"
ODOO_GIT_URL = "https://github.com/odoo/odoo.git"
# python-ldap only serves auth_ldap and needs libldap headers to build; skip it.
SKIPPED_REQUIREMENTS = ("python-ldap",)


class SetupError(Exception):
    """A missing prerequisite, with what to do about it."""


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    path = Path(base) / "stock_multichannel"
    path.mkdir(parents=True, exist_ok=True)
    return path


def say(message):
    print(f"[setup] {message}", flush=True)


def is_odoo_source(path):
    return path and (Path(path) / "odoo-bin").is_file() and (Path(path) / "odoo" / "release.py").is_file()


def odoo_version(src):
    namespace = {}
    exec((Path(src) / "odoo" / "release.py").read_text(), namespace)  # noqa: S102 - Odoo's own version file
    return namespace["serie"]


def find_odoo_source():
    """ODOO_SRC, then an importable odoo, then the user cache; else clone 18.0."""
    explicit = os.environ.get("ODOO_SRC")
    if explicit:
        if not is_odoo_source(explicit):
            raise SetupError(f"ODOO_SRC={explicit} is not an Odoo source tree (no odoo-bin).")
        return Path(explicit)
    try:
        import odoo  # noqa: F401 - only to locate an installed source tree

        candidate = Path(odoo.__file__).resolve().parent.parent
        if is_odoo_source(candidate):
            return candidate
    except ImportError:
        pass
    cached = cache_dir() / f"odoo-{ODOO_BRANCH}"
    if is_odoo_source(cached):
        return cached
    say(f"Odoo {ODOO_BRANCH} source not found; cloning it from {ODOO_GIT_URL} into {cached}")
    try:
        subprocess.run(
            ["git", "clone", "--depth", "1", "--branch", ODOO_BRANCH, ODOO_GIT_URL, str(cached)],
            check=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        shutil.rmtree(cached, ignore_errors=True)
        raise SetupError(
            f"Could not obtain Odoo {ODOO_BRANCH} ({exc}). Put an Odoo {ODOO_BRANCH} checkout at "
            f"{cached} or point ODOO_SRC at one."
        ) from exc
    return cached


def python_version_of(executable):
    try:
        out = subprocess.run(
            [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return tuple(int(part) for part in out.split("."))


def find_python():
    """A Python 3.12 interpreter (Odoo 18's pinned requirements have wheels for it)."""
    candidates = [os.environ.get("ODOO_PYTHON"), shutil.which("python3.12")]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python3.12")))
    candidates += ["/usr/bin/python3.12", shutil.which("python3")]
    for candidate in filter(None, candidates):
        version = python_version_of(candidate)
        if version and (3, 12) <= version < (3, 13):
            return candidate
    raise SetupError("Python 3.12 not found: install python3.12 or set ODOO_PYTHON to one.")


def requirement_lines(odoo_src):
    lines = (Path(odoo_src) / "requirements.txt").read_text().splitlines()
    kept = [line for line in lines if not line.lower().startswith(SKIPPED_REQUIREMENTS)]
    kept += (REPO / "requirements.txt").read_text().splitlines()
    return kept


def ensure_venv(odoo_src):
    requirements = requirement_lines(odoo_src)
    digest = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:12]
    venv = cache_dir() / f"venv-odoo{ODOO_BRANCH}"
    stamp = venv / "requirements.sha"
    python = venv / "bin" / "python"
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    say(f"preparing the virtual environment {venv}")
    if not python.exists():
        subprocess.run([find_python(), "-m", "venv", str(venv)], check=True)
    req_file = venv / "requirements.txt"
    req_file.write_text("\n".join(requirements) + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(req_file)], check=True)
    stamp.write_text(digest)
    return python


def check_postgres(python):
    """Odoo connects through libpq: PG* variables or the local socket."""
    probe = (
        "import psycopg2, os\n"
        "conn = psycopg2.connect(dbname=os.environ.get('PGDATABASE', 'postgres'))\n"
        "cur = conn.cursor()\n"
        "cur.execute('SELECT current_user, rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user')\n"
        "print(*cur.fetchone())\n"
    )
    result = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    if result.returncode:
        raise SetupError(
            "PostgreSQL is not reachable: start a PostgreSQL server and set PGHOST/PGPORT/PGUSER "
            "(or use the local socket with a role named after your user).\n" + result.stderr.strip()[-400:]
        )
    user, can_create = result.stdout.split()
    if user == "postgres":
        raise SetupError("Odoo refuses to run as the 'postgres' role: set PGUSER to another role.")
    if can_create != "True":
        raise SetupError(f"The PostgreSQL role {user!r} may not create databases (ALTER ROLE {user} CREATEDB).")


def addon_dirs():
    return sorted(p.parent.name for p in REPO.glob("*/__manifest__.py"))


def prepare():
    """Everything ready; returns the paths the other scripts need."""
    odoo_src = find_odoo_source()
    version = odoo_version(odoo_src)
    if version != ODOO_BRANCH:
        raise SetupError(f"{odoo_src} holds Odoo {version}, the addons need {ODOO_BRANCH}.")
    python = ensure_venv(odoo_src)
    check_postgres(python)
    return {
        "odoo_src": str(odoo_src),
        "python": str(python),
        "odoo_bin": str(Path(odoo_src) / "odoo-bin"),
        "addons_path": ",".join([str(Path(odoo_src) / "addons"), str(Path(odoo_src) / "odoo" / "addons"), str(REPO)]),
        "addons": addon_dirs(),
    }


def main():
    try:
        print(json.dumps(prepare(), indent=2))
    except SetupError as exc:
        sys.exit(f"[setup] {exc}")


if __name__ == "__main__":
    main()
