"""Stock push cycle benchmark: many listings, few of them changed.

    python3 bench/push_cycle_bench.py [--listings 100000] [--changed 1000]

Creates a throw-away database with N eMAG listings (the eMAG simulator behind them),
then measures in one run:
- the baseline: pushing every listing (what a sync without change detection does each
  cycle), with eMAG's rate limit lifted so that it finishes;
- committing a stock change on ``--changed`` products (the change detection's cost);
- the push cycle that follows, under eMAG's real limit (3 requests/s) and unthrottled:
  API calls, offers sent, wall time;
- a cycle where nothing changed (what the real-time cron costs when idle).
Checks that every changed offer holds its new quantity and that no other offer was sent.
"""

import time

import harness


def measure(registry, args):
    import odoo
    from odoo import api
    from odoo.addons.stock_multichannel_emag.api import ratelimit
    from odoo.addons.stock_multichannel_emag.simulator.emag_simulator import EmagSimulator

    sim = EmagSimulator(username="bench", password="bench-pw").start()
    unlimited = 10**6

    def set_rate(rate):
        sim.rates["other"] = rate
        sim.windows.clear()
        ratelimit.LIMITS["other"] = rate
        ratelimit._limiters.clear()

    started = time.perf_counter()
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        env.ref("base.RON").active = True
        location = env["stock.warehouse"].search([], limit=1).lot_stock_id
        channel = env["multichannel.channel"].create(
            {
                "name": "eMAG push cycle",
                "channel_type": "emag",
                "emag_platform": "ro",
                "pricelist_id": env["product.pricelist"]
                .create({"name": "RON", "currency_id": env.ref("base.RON").id})
                .id,
                "emag_username": "bench",
                "emag_password": "bench-pw",
                "retry_delay": 0.1,
                "stock_schedule": "off",
                "price_schedule": "off",
                "order_schedule": "off",
            }
        )
        channel.emag_base_url = sim.base_url
        product_ids = []
        for start in range(0, args.listings, 5000):
            count = min(5000, args.listings - start)
            products = env["product.product"].create(
                [
                    {"name": f"Cycle {i}", "default_code": f"C{i}", "is_storable": True}
                    for i in range(start, start + count)
                ]
            )
            env["stock.quant"].with_context(inventory_mode=True).create(
                [{"product_id": p.id, "location_id": location.id, "quantity": 20 + p.id % 30} for p in products]
            )
            env["multichannel.product.binding"].create(
                [{"channel_id": channel.id, "product_id": p.id, "external_id": str(p.id)} for p in products]
            )
            product_ids += products.ids
            cr.commit()
            env.invalidate_all()
        for product_id in product_ids:
            sim.add_offer(product_id, f"C{product_id}")
        channel_id, location_id = channel.id, location.id
    setup = time.perf_counter() - started

    def cycle(rate):
        set_rate(rate)
        sim.log.clear()
        with registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            began = time.perf_counter()
            env["multichannel.channel"].browse(channel_id)._push("stock", auto_commit=True)
            elapsed = time.perf_counter() - began
        saves = sim.requests_to("offer/save")
        return {"seconds": elapsed, "calls": len(saves), "offers": sum(e["items"] for e in saves)}

    def change_stock(first):
        """Sell one unit of ``args.changed`` products in one transaction: (Odoo's stock
        operations, the commit that queues the sync requests) in seconds, and the new quantities."""
        changed = product_ids[first :: len(product_ids) // args.changed][: args.changed]
        with registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            began = time.perf_counter()
            location = env["stock.location"].browse(location_id)
            for product in env["product.product"].browse(changed):
                env["stock.quant"]._update_available_quantity(product, location, -1)
            env.flush_all()
            operations = time.perf_counter() - began
            began = time.perf_counter()
            cr.commit()
            elapsed = (operations, time.perf_counter() - began)
            env.invalidate_all()
            expected = {
                p.id: int(p.with_context(location=location_id).free_qty) for p in env["product.product"].browse(changed)
            }
        return elapsed, expected

    def check(expected):
        wrong = [pid for pid, qty in expected.items() if sim.stock_of(pid) != qty]
        return len(wrong)

    full = cycle(unlimited)
    change_seconds, expected = change_stock(0)
    limited = cycle(3)
    limited_wrong = check(expected)
    _, expected_again = change_stock(1)
    free = cycle(unlimited)
    free_wrong = check(expected_again)
    idle = cycle(3)
    sim.stop()

    share = args.changed / args.listings
    print(
        f"\nPush cycle benchmark: {args.listings:,} eMAG listings, {args.changed:,} changed ({share:.1%}); "
        f"set-up {setup:.0f}s"
    )
    print(
        f"  baseline, push every listing (unthrottled)  {full['seconds']:7.1f}s  {full['calls']:5} calls  "
        f"{full['offers']:7,} offers"
    )
    print(
        f"  the stock change: Odoo's stock operations on {args.changed} products {change_seconds[0]:.2f}s, "
        f"then the commit queuing their listings {change_seconds[1]:.2f}s"
    )
    print(
        f"  push cycle, eMAG's 3 req/s                  {limited['seconds']:7.1f}s  {limited['calls']:5} calls  "
        f"{limited['offers']:7,} offers  wrong after: {limited_wrong}"
    )
    print(
        f"  push cycle, unthrottled                     {free['seconds']:7.1f}s  {free['calls']:5} calls  "
        f"{free['offers']:7,} offers  wrong after: {free_wrong}"
    )
    print(f"  idle cycle (nothing changed)                {idle['seconds']:7.2f}s  {idle['calls']:5} calls")
    print(
        f"  cycle vs baseline: {full['calls'] / max(limited['calls'], 1):.0f}x fewer calls; "
        f"unthrottled {full['seconds'] / free['seconds']:.0f}x faster; under the limit the baseline would need "
        f"{full['calls'] / 3:.0f}s = {full['calls'] / 3 / limited['seconds']:.0f}x the cycle"
    )


if __name__ == "__main__":
    harness.run(__file__, harness.parse(__doc__, listings=100000, changed=1000), "stock_multichannel_emag", measure)
