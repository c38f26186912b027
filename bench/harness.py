"""What every benchmark needs: throw-away databases with the addons, then the
benchmark itself re-run inside Odoo's Python with those databases' registries."""

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


def run(script, args, addons, measure):
    """From plain python3: make the database(s) and re-run ``script`` inside them.

    ``addons``: the addon to install (one database; inside, ``measure(registry, args)``),
    or a list of them, one database each, made the same way (inside,
    ``measure([registry, ...], args)`` in the same order)."""
    several = not isinstance(addons, str)
    if args.inside:
        import odoo

        names = args.inside.split(",")
        odoo.tools.config.parse_config(["-d", names[0], f"--addons-path={args.addons_path}", "--log-level=warn"])
        registries = [odoo.modules.registry.Registry(name) for name in names]
        return measure(registries if several else registries[0], args)
    from odoo_run import drop_database, odoo_command, prepared_env

    env = prepared_env()
    addons = list(addons) if several else [addons]
    databases = [f"smc_bench_{os.getpid()}" + (f"_{index}" if several else "") for index in range(len(addons))]
    try:
        for database, addon in zip(databases, addons, strict=True):
            drop_database(env, database)
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
            [env["python"], script, "--inside", ",".join(databases), "--addons-path", env["addons_path"], *options],
            check=True,
            env=dict(os.environ, PYTHONPATH=env["odoo_src"]),
        )
    finally:
        for database in databases:
            drop_database(env, database)
    return None
