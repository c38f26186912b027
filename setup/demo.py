"""Run the product: a database with the addons installed and an Odoo server on it.

    python3 setup/demo.py            # create the demo database when missing, start Odoo
    python3 setup/demo.py --reset    # start again from a new database

Ctrl-C stops the server.
"""

import argparse
import subprocess
import sys

from odoo_run import drop_database, odoo_command, prepared_env

DATABASE = "stock_multichannel_demo"


def database_exists(env, database):
    probe = (
        "import psycopg2, sys\nconn = psycopg2.connect(dbname='postgres')\ncur = conn.cursor()\n"
        "cur.execute('SELECT 1 FROM pg_database WHERE datname = %s', (sys.argv[1],))\n"
        "sys.exit(0 if cur.fetchone() else 1)\n"
    )
    return subprocess.run([env["python"], "-c", probe, database]).returncode == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reset", action="store_true", help="drop and recreate the demo database")
    parser.add_argument("--port", type=int, default=8069)
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args()
    env = prepared_env()
    if args.reset:
        drop_database(env, args.database)
    addons = ",".join(env["addons"])
    if not database_exists(env, args.database):
        print(f"[demo] creating {args.database} with {addons} (a few minutes the first time)", flush=True)
        subprocess.run(
            odoo_command(
                env, args.database, "-i", addons, "--stop-after-init", "--without-demo=all", "--log-level=warn"
            ),
            check=True,
        )
    else:
        subprocess.run(
            odoo_command(env, args.database, "-u", addons, "--stop-after-init", "--log-level=warn"), check=True
        )
    print(
        f"\n[demo] Odoo runs at http://127.0.0.1:{args.port}/odoo  (login admin, password admin)\n"
        f"[demo] Sales > Multichannel holds the channels, listings and channel orders. Ctrl-C stops.\n",
        flush=True,
    )
    server = subprocess.Popen(odoo_command(env, args.database, f"--http-port={args.port}", "--log-level=info"))
    try:
        sys.exit(server.wait())
    except KeyboardInterrupt:
        server.terminate()
        server.wait(timeout=30)
        print("[demo] stopped")


if __name__ == "__main__":
    main()
