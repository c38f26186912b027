"""Availability benchmark: the core's bulk computation against Odoo's own free_qty.

    python3 bench/availability_bench.py [--listings 10000] [--profile 1]

Creates a throw-away database with N storable products, stock in two warehouses and a
channel selling from both, then times, on the same data:
- the channel's bulk targets (one grouped stock.quant query, then the policy);
- Odoo's free_qty for the same products in one recordset (Odoo's batched compute);
- Odoo's free_qty product by product (what a naive connector loop does), on a sample.
Checks that they agree, and prints the ratios. ``--profile 1`` then runs the bulk
targets once more under cProfile (after the timed runs) and prints where the time goes.
"""

import time

import harness


def measure(registry, args):
    import odoo
    from odoo import Command, api

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        first = env["stock.warehouse"].search([], limit=1)
        second = env["stock.warehouse"].create({"name": "Second", "code": "WH2"})
        started = time.perf_counter()
        products = env["product.product"]
        # in slices: stock.quant's create in inventory mode grows its result one record at a time
        for start in range(0, args.listings, 5000):
            batch = env["product.product"].create(
                [
                    {"name": f"Bench {i}", "default_code": f"AV{i}", "is_storable": True}
                    for i in range(start, min(start + 5000, args.listings))
                ]
            )
            quants = []
            for index, product in enumerate(batch, start):
                quants.append(
                    {"product_id": product.id, "location_id": first.lot_stock_id.id, "quantity": 5 + index % 11}
                )
                if index % 3:
                    quants.append({"product_id": product.id, "location_id": second.lot_stock_id.id, "quantity": 2})
            env["stock.quant"].with_context(inventory_mode=True).create(quants)
            products |= batch
        channel = env["multichannel.channel"].create(
            {"name": "Bench", "warehouse_ids": [Command.set((first | second).ids)]}
        )
        listings = env["multichannel.product.binding"].create(
            [{"channel_id": channel.id, "product_id": p.id, "external_id": str(p.id)} for p in products]
        )
        cr.commit()
        setup = time.perf_counter() - started

        def timed(function):
            env.invalidate_all()
            started = time.perf_counter()
            result = function()
            return time.perf_counter() - started, result

        bulk_time, targets = timed(lambda: channel._stock_targets(listings))
        context = {"warehouse_id": (first | second).ids}
        batch_time, free = timed(
            lambda: dict(zip(products.ids, products.with_context(**context).mapped("free_qty"), strict=True))
        )
        sample = products[: min(500, len(products))]
        # a fresh browse per product: no prefetching across products, as in a per-product loop
        Product = env["product.product"].with_context(**context)
        loop_time, _ = timed(lambda: [Product.browse(pid).free_qty for pid in sample.ids])
        loop_time = loop_time * len(products) / len(sample)
        disagree = [b.id for b in listings if targets[b.id] != int(free[b.product_id.id])]
    print(f"\nAvailability benchmark: {args.listings} listings over 2 warehouses (set-up {setup:.0f}s)")
    print(f"  bulk channel targets         {bulk_time:8.2f}s  ({args.listings / bulk_time:,.0f} listings/s)")
    print(f"  Odoo free_qty, one recordset {batch_time:8.2f}s  = {batch_time / bulk_time:.1f}x the bulk time")
    print(
        f"  Odoo free_qty, one by one    {loop_time:8.2f}s  = {loop_time / bulk_time:.0f}x the bulk time "
        f"(extrapolated from {len(sample)})"
    )
    print(f"  listings where they disagree: {len(disagree)}")
    print(
        f"  goal: bulk targets at least 20x faster than free_qty on one recordset: "
        f"{'met' if batch_time / bulk_time >= 20 else 'NOT met'} ({batch_time / bulk_time:.1f}x)"
    )
    if args.profile:
        import cProfile
        import pstats

        with registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            channel = env["multichannel.channel"].search([("name", "=", "Bench")])
            listings = env["multichannel.product.binding"].search([("channel_id", "=", channel.id)])
            env.invalidate_all()
            profiler = cProfile.Profile()
            profiler.runcall(channel._stock_targets, listings)
            print("\nthe bulk targets again, profiled:")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    harness.run(__file__, harness.parse(__doc__, listings=10000, profile=0), "stock_multichannel", measure)
