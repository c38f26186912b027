"""What every benchmark needs: a throw-away database with the addons, then the
benchmark itself re-run inside Odoo's Python with that database's registry."""

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "setup"))


def parse(doc, **options):
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, default in options.items():
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=int, default=default)
    parser.add_argument("--inside", help=argparse.SUPPRESS)
    parser.add_argument("--addons-path", help=argparse.SUPPRESS)
    return parser.parse_args()


def run(script, args, addon, measure):
    """From plain python3: make the database and re-run ``script`` inside it.
    Inside (``--inside``): hand the registry to ``measure(registry, args)``."""
    if args.inside:
        import odoo

        odoo.tools.config.parse_config(["-d", args.inside, f"--addons-path={args.addons_path}", "--log-level=warn"])
        return measure(odoo.modules.registry.Registry(args.inside), args)
    from odoo_run import drop_database, odoo_command, prepared_env

    env = prepared_env()
    database = f"smc_bench_{os.getpid()}"
    drop_database(env, database)
    try:
        print(f"[bench] creating {database} with {addon}", flush=True)
        subprocess.run(
            odoo_command(env, database, "-i", addon, "--stop-after-init", "--without-demo=all", "--log-level=warn"),
            check=True,
        )
        options = [
            f"--{key.replace('_', '-')}={value}"
            for key, value in vars(args).items()
            if key not in ("inside", "addons_path")
        ]
        subprocess.run(
            [env["python"], script, "--inside", database, "--addons-path", env["addons_path"], *options],
            check=True,
            env=dict(os.environ, PYTHONPATH=env["odoo_src"]),
        )
    finally:
        drop_database(env, database)
    return None
