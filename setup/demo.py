"""Run the product: the merchant's story with three channels on local simulators.

    python3 setup/demo.py              # demo database, simulators, Odoo, simulated customers
    python3 setup/demo.py --no-orders  # the same without the order generator
    python3 setup/demo.py --reset      # start again from a new database

Creates (once) a database with the three addons, starts two eMAG simulators (Romania,
Bulgaria) and a WooCommerce simulator, puts the story's products on them, starts Odoo
with its scheduler, and lets simulated customers buy on the three channels every few
seconds, so stock visibly moves everywhere. Ctrl-C stops everything.
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request

import bootstrap
from odoo_run import drop_database, free_port, odoo_command, prepared_env, server_environ, wait_until_up

DATABASE = "stock_multichannel_demo"
REPO = bootstrap.REPO
EMAG_SIM = REPO / "stock_multichannel_emag" / "simulator" / "emag_simulator.py"
SHOP_SIM = REPO / "stock_multichannel_shop" / "simulator" / "woo_simulator.py"


def database_exists(env, database):
    probe = (
        "import psycopg2, sys\nconn = psycopg2.connect(dbname='postgres')\ncur = conn.cursor()\n"
        "cur.execute('SELECT 1 FROM pg_database WHERE datname = %s', (sys.argv[1],))\n"
        "sys.exit(0 if cur.fetchone() else 1)\n"
    )
    return subprocess.run([env["python"], "-c", probe, database]).returncode == 0


def wait_for(url, timeout=30):
    if not wait_until_up(url, timeout):
        raise SystemExit(f"[demo] {url} did not come up")


def post(url, data):
    request = urllib.request.Request(
        url, data=json.dumps(data).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


class OdooStopped(Exception):
    pass


def sleep_watching(server, seconds):
    """Sleep ``seconds``, but raise OdooStopped as soon as the Odoo server exits."""
    deadline = time.monotonic() + seconds
    while True:
        if server is not None and server.poll() is not None:
            raise OdooStopped(server.returncode)
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 1.0))


def order_generator(sims, every, stop_after=None, server=None):
    """Simulated customers: one order every ``every`` seconds on a random channel."""
    placed = 0
    while stop_after is None or placed < stop_after:
        sleep_watching(server, every)
        channel = random.choice(list(sims))
        try:
            if channel == "shop":
                products = [
                    p for p in get(f"{sims['shop']}/_sim/state")["products"].values() if (p["stock_quantity"] or 0) > 0
                ]
                if products:
                    product = random.choice(products)
                    post(f"{sims['shop']}/_sim/orders", {"lines": [[product["id"], 0, 1, 50.0]]})
                    print(f"[demo] a customer bought {product['sku']} on the web shop", flush=True)
            else:
                offers = [
                    o
                    for o in get(f"{sims[channel]}/_sim/state")["offers"].values()
                    if sum(s["value"] for s in o["stock"]) > 0
                ]
                if offers:
                    offer = random.choice(offers)
                    post(f"{sims[channel]}/_sim/orders", {"lines": [[offer["id"], 1]]})
                    print(f"[demo] a customer bought {offer['part_number']} on {channel}", flush=True)
            placed += 1
        except OSError as error:
            print(f"[demo] the order generator could not reach {channel}: {error}", flush=True)


def stop_on_terminate(*_args):
    raise KeyboardInterrupt


def main():
    signal.signal(signal.SIGTERM, stop_on_terminate)  # clean up the children as on Ctrl-C
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reset", action="store_true", help="drop and recreate the demo database")
    parser.add_argument("--no-orders", action="store_true", help="no simulated customers")
    parser.add_argument("--order-every", type=float, default=20.0, help="seconds between simulated orders")
    parser.add_argument("--port", type=int, default=8069)
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args()
    status = 0
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
    ports = {name: free_port() for name in ("emag_ro", "emag_bg", "shop")}
    children = [
        subprocess.Popen(
            [
                env["python"],
                str(EMAG_SIM),
                "--port",
                str(ports["emag_ro"]),
                "--username",
                "demo-ro",
                "--password",
                "demo-ro-pw",
            ]
        ),
        subprocess.Popen(
            [
                env["python"],
                str(EMAG_SIM),
                "--port",
                str(ports["emag_bg"]),
                "--username",
                "demo-bg",
                "--password",
                "demo-bg-pw",
                "--platform",
                "bg",
            ]
        ),
        subprocess.Popen(
            [env["python"], str(SHOP_SIM), "--port", str(ports["shop"]), "--key", "ck_demo", "--secret", "cs_demo"]
        ),
    ]
    sims = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    try:
        for url in sims.values():
            wait_for(f"{url}/_sim/state")
        subprocess.run(
            [
                env["python"],
                str(REPO / "setup" / "demo_data.py"),
                args.database,
                env["addons_path"],
                f"{sims['emag_ro']}/api-3",
                f"{sims['emag_bg']}/api-3",
                sims["shop"],
                f"http://127.0.0.1:{args.port}",
            ],
            check=True,
            env=dict(os.environ, PYTHONPATH=env["odoo_src"]),
        )
        server = subprocess.Popen(
            odoo_command(env, args.database, f"--http-port={args.port}", "--log-level=info", "--max-cron-threads=1"),
            env=server_environ(env),  # a watchdog restart re-executes the venv's python
        )
        children.append(server)
        if not wait_until_up(f"http://127.0.0.1:{args.port}/web/login", timeout=120, process=server):
            if server.poll() is not None:
                raise OdooStopped(server.returncode)
            raise SystemExit(f"[demo] Odoo did not answer on port {args.port} within 2 minutes")
        print(
            f"\n[demo] Odoo runs at http://127.0.0.1:{args.port}/odoo  (login admin, password admin)\n"
            f"[demo] Sales > Multichannel: channels, listings, channel orders, ledger.\n"
            f"[demo] Simulators: eMAG RO {sims['emag_ro']}, eMAG BG {sims['emag_bg']}, shop {sims['shop']}"
            f" (GET /_sim/state shows their stock). Ctrl-C stops everything.\n",
            flush=True,
        )
        order_generator(sims, args.order_every, stop_after=0 if args.no_orders else None, server=server)
        if args.no_orders:
            sleep_watching(server, float("inf"))
    except KeyboardInterrupt:
        pass
    except OdooStopped as stopped:
        print(
            f"\n[demo] Odoo stopped (exit code {stopped.args[0]}): see its log above. "
            "The simulators are stopped too; run the demo again to restart.",
            flush=True,
        )
        status = 1
    finally:
        # a second signal (Ctrl-C again, or SIGTERM sent to the whole group) must not cut the clean-up short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
        print("[demo] stopped", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
