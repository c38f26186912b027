"""Drift audit benchmark: every eMAG offer read back and compared, under eMAG's real limit.

    python3 bench/audit_bench.py [--listings 10000] [--drift 100] [--budget 20]

Creates a throw-away database with the addons and an eMAG simulator holding one offer
per listing, each showing what Odoo would push; ``--drift`` of them are then edited "by
hand" on the simulator. Measured in one run:
- the baseline: the same pages read over raw HTTP by eMAG's own client and limiter
  (3 requests/s), no Odoo engine;
- the audit as its cron runs it: runs of at most ``--budget`` seconds, each resuming
  where the previous one stopped, until every offer was compared.
Prints the calls, the time, the runs, the drift found, and the ratio to the baseline.
Both share eMAG's rate limit as Odoo keeps it, in PostgreSQL (one window per account).
"""

import time

import harness


def measure(registry, args):
    import odoo
    from odoo import Command, api
    from odoo.addons.stock_multichannel_emag.api import ratelimit
    from odoo.addons.stock_multichannel_emag.simulator.emag_simulator import EmagSimulator

    sim = EmagSimulator(username="bench", password="bench-pw").start()
    started = time.perf_counter()
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        ron = env.ref("base.RON")
        ron.active = True
        warehouse = env["stock.warehouse"].search([], limit=1)
        channel = env["multichannel.channel"].create(
            {
                "name": "eMAG audit bench",
                "channel_type": "emag",
                "emag_platform": "ro",
                "warehouse_ids": [Command.set(warehouse.ids)],
                "pricelist_id": env["product.pricelist"].create({"name": "RON", "currency_id": ron.id}).id,
                "emag_username": "bench",
                "emag_password": "bench-pw",
                "stock_schedule": "off",
                "price_schedule": "off",
                "order_schedule": "off",
            }
        )
        channel.emag_base_url = sim.base_url
        # in slices: stock.quant's create in inventory mode grows its result one record at a time
        for start in range(0, args.listings, 5000):
            indexes = range(start, min(start + 5000, args.listings))
            products = env["product.product"].create(
                [{"name": f"Audit {i}", "default_code": f"AU{i}", "is_storable": True} for i in indexes]
            )
            env["stock.quant"].with_context(inventory_mode=True).create(
                [
                    {"product_id": product.id, "location_id": warehouse.lot_stock_id.id, "quantity": 5 + index % 11}
                    for index, product in zip(indexes, products, strict=True)
                ]
            )
            env["multichannel.product.binding"].create(
                [
                    {"channel_id": channel.id, "product_id": product.id, "external_id": str(index + 1)}
                    for index, product in zip(indexes, products, strict=True)
                ]
            )
            for index in indexes:
                sim.add_offer(index + 1, f"AU{index}", stock=5 + index % 11, sale_price=10.0)
            cr.commit()
            env.invalidate_all()
        channel_id = channel.id
    print(f"[bench] {args.listings} listings and offers created in {time.perf_counter() - started:.0f}s", flush=True)
    step = max(1, args.listings // max(1, args.drift))
    edited = list(range(1, args.listings + 1, step))[: args.drift]
    for offer_id in edited:
        sim.offers[offer_id]["stock"][0]["value"] = 0  # someone set it to 0 in the seller centre

    ratelimit.LIMITS["other"] = 3
    sim.rates["other"] = 3
    with registry.cursor() as cr:
        # eMAG's client with the limiter Odoo gives it: one window per account in PostgreSQL
        client = api.Environment(cr, odoo.SUPERUSER_ID, {})["multichannel.channel"].browse(channel_id)._emag_client()
    sim.log.clear()
    started = time.perf_counter()
    page = 1
    while True:
        offers = client.call("product_offer/read", {"currentPage": page, "itemsPerPage": 100}).results or []
        if len(offers) < 100:
            break
        page += 1
    baseline = time.perf_counter() - started
    baseline_calls = len(sim.requests_to("product_offer/read"))

    sim.log.clear()
    runs, elapsed = 0, 0.0
    while True:
        runs += 1
        with registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            channel = env["multichannel.channel"].browse(channel_id)
            started = time.perf_counter()
            unfinished = channel._audit(args.budget, auto_commit=True)
            elapsed += time.perf_counter() - started
            read, drift, cursor = channel.audit_read_count, channel.audit_drift_count, channel.audit_cursor
            cr.commit()
        print(f"[bench] audit run {runs}: {read} offers compared so far, resumes at page {cursor or '-'}", flush=True)
        if not unfinished:
            break
    calls = len(sim.requests_to("product_offer/read"))
    throttled = len([entry for entry in sim.log if entry.get("status") == 429])
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        found = env["multichannel.ledger"].search_count([("channel_id", "=", channel_id), ("kind", "=", "drift")])
        queued = env["multichannel.product.binding"].search_count(
            [("channel_id", "=", channel_id), ("stock_moved_by_channel", "=", True)]
        )
    sim.stop()

    print(f"\nDrift audit benchmark: {args.listings} eMAG listings, {len(edited)} edited by hand on eMAG")
    print(
        f"  baseline: raw reads, eMAG's limit   {baseline:7.1f} s  ({baseline_calls} calls of 100 offers, "
        f"3 req/s: at least {baseline_calls / 3:.0f} s)"
    )
    print(
        f"  audit through Odoo, in cron runs    {elapsed:7.1f} s  ({calls} calls, {runs} runs of at most "
        f"{args.budget} s, {throttled} answered 429) = {elapsed / baseline:.2f} x the baseline"
    )
    print(f"  offers compared {read}; drift found {drift} (ledger {found}); listings queued again {queued}")
    if (read, drift, found, queued) != (
        args.listings,
        len(edited),
        len(edited),
        len(edited),
    ) or calls != baseline_calls:
        raise SystemExit("the audit missed or repeated something")


if __name__ == "__main__":
    harness.run(
        __file__, harness.parse(__doc__, listings=10000, drift=100, budget=20), "stock_multichannel_emag", measure
    )
