"""End-to-end latency in real-time mode: a stock change in Odoo until every channel shows it.

    python3 bench/latency_bench.py [--changes 40] [--sales 10] [--pause-ms 1500]

Creates a throw-away database with the three addons and the demo's story (eMAG
Romania, eMAG Bulgaria and the WooCommerce shop, all real time, on their simulators),
starts Odoo with one cron worker as a merchant runs it, then commits ``--changes``
stock moves of the office chair one after the other and watches the three simulators
until each shows the new quantity. Prints the median and p95 per channel and until
every channel is updated, against the baseline of the same run: one bare HTTP stock
update to each simulator, without Odoo. Then ``--sales`` customers buy the chair on
eMAG Romania: its simulator calls Odoo's eMAG callback URL, as eMAG does, and the
time until eMAG Bulgaria and the shop show one chair less is measured the same way.
"""

import os
import statistics
import subprocess
import sys
import time

import harness


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(registry, args):
    import demo_data
    import requests
    from odoo_run import free_port, odoo_command, wait_until_up

    import odoo
    from odoo import api
    from odoo.addons.stock_multichannel_emag.simulator.emag_simulator import EmagSimulator
    from odoo.addons.stock_multichannel_shop.simulator.woo_simulator import WooSimulator

    ro = EmagSimulator(*demo_data.CREDENTIALS["emag_ro"]).start()
    bg = EmagSimulator(*demo_data.CREDENTIALS["emag_bg"]).start()
    shop = WooSimulator(*demo_data.CREDENTIALS["shop"]).start()
    port = free_port()
    # with Odoo's address: the shop's webhooks and eMAG's callbacks are set up to reach it
    demo_data.seed(registry, ro.base_url, bg.base_url, shop.url, odoo_url=f"http://127.0.0.1:{port}")
    ro_chair = next(o["id"] for o in ro.offers.values() if o["part_number"] == "CHAIR-ERGO")
    bg_chair = next(o["id"] for o in bg.offers.values() if o["part_number"] == "CHAIR-ERGO")
    shop_chair = next(p["id"] for p in shop.products.values() if p["sku"] == "CHAIR-ERGO")
    shown = {
        "eMAG RO": lambda: ro.stock_of(ro_chair),
        "eMAG BG": lambda: bg.stock_of(bg_chair),
        "shop": lambda: shop.products[shop_chair]["stock_quantity"],
    }

    session = requests.Session()
    bare = []
    shop.https = True  # the bare baseline authenticates as a client over https would (Basic)
    for _ in range(args.changes):
        started = time.perf_counter()
        for sim, credentials in ((ro, demo_data.CREDENTIALS["emag_ro"]), (bg, demo_data.CREDENTIALS["emag_bg"])):
            session.post(
                f"{sim.base_url}/offer/save",
                json={"data": [{"id": 999, "stock": [{"warehouse_id": 1, "value": 5}]}]},
                auth=credentials,
                timeout=10,
            )
        session.post(
            f"{shop.url}/wp-json/wc/v3/products/batch",
            json={"update": [{"id": shop_chair, "stock_quantity": shown["shop"]()}]},
            auth=demo_data.CREDENTIALS["shop"],
            timeout=10,
        )
        bare.append(time.perf_counter() - started)
    shop.https = False  # Odoo's client talks plain http to the simulator: OAuth 1.0a signed

    odoo_bin = os.path.join(os.path.dirname(os.path.dirname(odoo.__file__)), "odoo-bin")
    odoo_env = {"python": sys.executable, "odoo_bin": odoo_bin, "addons_path": args.addons_path}
    server = subprocess.Popen(
        odoo_command(odoo_env, registry.db_name, f"--http-port={port}", "--max-cron-threads=1", "--log-level=warn")
    )
    latencies = {name: [] for name in shown}
    latencies["every channel"] = []
    from_emag = {"eMAG BG": [], "shop": []}
    try:
        if not wait_until_up(f"http://127.0.0.1:{port}/web/health", process=server):
            raise SystemExit("[bench] Odoo did not come up")
        time.sleep(3)  # the cron worker's first round
        with registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            chair = env["product.product"].search([("default_code", "=", "CHAIR-ERGO")])
            location = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1).lot_stock_id
            for change in range(args.changes):
                delta = -1 if change % 2 == 0 else 2
                expected = shown["shop"]() + delta
                env["stock.quant"]._update_available_quantity(chair, location, delta)
                cr.commit()  # the change leaves Odoo's hands here
                committed = time.perf_counter()
                waiting = set(shown)
                while waiting and time.perf_counter() - committed < 60:
                    for name in list(waiting):
                        if shown[name]() == expected:
                            latencies[name].append(time.perf_counter() - committed)
                            waiting.discard(name)
                    time.sleep(0.005)
                if waiting:
                    raise SystemExit(f"[bench] {', '.join(waiting)} never showed {expected}")
                latencies["every channel"].append(time.perf_counter() - committed)
                time.sleep(args.pause_ms / 1000)
        for _sale in range(args.sales):
            expected = {name: shown[name]() - 1 for name in from_emag}
            ro.place_order([(ro_chair, 1)])  # the simulator calls Odoo's callback URL
            placed = time.perf_counter()
            waiting = set(from_emag)
            while waiting and time.perf_counter() - placed < 60:
                for name in list(waiting):
                    if shown[name]() == expected[name]:
                        from_emag[name].append(time.perf_counter() - placed)
                        waiting.discard(name)
                time.sleep(0.005)
            if waiting:
                raise SystemExit(f"[bench] after an eMAG sale, {', '.join(waiting)} never showed one less")
            time.sleep(args.pause_ms / 1000)
    finally:
        server.terminate()
        server.wait(timeout=30)
        for sim in (ro, bg, shop):
            sim.stop()

    bare_median = statistics.median(bare)
    print(f"\nEnd-to-end latency, real time, one cron worker: {args.changes} stock changes of the office chair")
    print(f"  baseline: one bare HTTP update to each of the 3 simulators, median {1000 * bare_median:.1f} ms")
    for title, measured in (
        (None, latencies),
        (f"a sale on eMAG Romania (callback, order read and imported, stock pushed), {args.sales} sales:", from_emag),
    ):
        if title:
            print(f"  {title}")
        for name, values in measured.items():
            median, p95 = statistics.median(values), percentile(values, 0.95)
            print(
                f"  {name:14} median {1000 * median:6.0f} ms   p95 {1000 * p95:6.0f} ms   "
                f"max {1000 * max(values):6.0f} ms   median = {median / bare_median:.0f}x the baseline"
            )


if __name__ == "__main__":
    harness.run(
        __file__,
        harness.parse(__doc__, changes=40, sales=10, pause_ms=1500),
        "stock_multichannel_emag,stock_multichannel_shop",
        measure,
    )
