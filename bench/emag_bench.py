"""eMAG benchmark: offers pushed and orders imported per second against the simulator.

    python3 bench/emag_bench.py [--offers 2000] [--orders 200] [--limited 0] [--rounds 5] [--contacts 0]
                                [--bare-batched 0]

Creates a throw-away database with the addons, then measures in one run:
- the simulator's own cost: raw HTTP calls of 50-offer batches, no Odoo;
- a full stock push of N listings through the Odoo engine, with eMAG's rate limit
  (3 requests/s) and without it (the limit lifted in client and simulator, to see
  Odoo's own cost; ``--limited 0`` skips the runs under the real limit);
- importing M new orders (acknowledge, re-read, sale order confirmed), the same two ways;
- Odoo's bare ``sale.order.create`` + ``action_confirm`` of the same orders (same
  customers, lines, prices and taxes, one commit each, as a user's requests would): the
  baseline of the import, measured in ``--rounds`` blocks alternating with the
  unthrottled import's. ``--bare-batched 1`` commits it as the import commits (every
  ``ORDER_COMMIT_SECONDS``), to see the import's own extra work alone.
``--contacts N``: N contacts in Odoo before the orders come (a marketplace's past
customers, inserted in SQL), for what looking each order's customer up costs at that
size. Prints the figures and their ratios to the simulator's cost and to the baseline, Odoo's
own time per pushed listing (the push's time without its calls to the simulator) and
the process's memory before and after the push.
"""

import time

import harness

# the push's steps timed
PUSH_PHASES = [
    ("multichannel.sync.request", "_fan_out_stock_changes"),
    ("multichannel.sync.request", "_drain"),
    ("multichannel.channel", "_split_changed"),
    ("multichannel.channel", "_push_batch"),
    ("multichannel.product.binding", "_extras"),
    ("multichannel.channel", "_call"),
    ("multichannel.ledger", "_log_push"),
    ("multichannel.product.binding", "_apply_push_results"),
    ("multichannel.channel", "_commit"),
    ("multichannel.channel", "_try_lock"),
]
# the import's steps timed (see harness.PhaseTimer), and the same in Odoo's bare create + confirm
PHASES = [
    ("multichannel.order", "_receive"),
    ("multichannel.order", "_store"),
    ("multichannel.order", "_stored"),
    ("multichannel.order", "_insert"),
    ("multichannel.order", "_summary"),
    ("multichannel.order", "_refresh_pending_quantities"),
    ("multichannel.order", "_match_products"),
    ("multichannel.order", "_compute_summary"),
    ("multichannel.order", "_lock"),
    ("multichannel.order", "_apply_channel_update"),
    ("multichannel.order", "_process_one"),
    ("multichannel.order", "write"),
    ("multichannel.order", "_request_stock_sync"),
    ("multichannel.order", "_process"),
    ("multichannel.order", "_acknowledge"),
    ("multichannel.order", "_create_sale_order"),
    ("multichannel.order", "_customer_partners"),
    ("multichannel.order", "_post_customer_note"),
    ("multichannel.order", "_find_products"),
    ("multichannel.order", "_close"),
    ("sale.order", "create"),
    ("sale.order", "action_confirm"),
    ("sale.order", "_multichannel_check_after_import"),
    ("multichannel.ledger", "_log_order"),
    ("multichannel.sync.request", "_queue"),
    ("multichannel.sync.request", "_queue_stock_changes"),
    ("multichannel.channel", "_trigger_realtime"),
]


def rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure(registry, args):
    import requests

    import odoo
    from odoo import Command, api
    from odoo.addons.stock_multichannel.const import ORDER_COMMIT_SECONDS
    from odoo.addons.stock_multichannel_emag.api import ratelimit
    from odoo.addons.stock_multichannel_emag.simulator.emag_simulator import EmagSimulator

    # the baseline commits each order, or as the import does (--bare-batched 1)
    bare_commit_seconds = ORDER_COMMIT_SECONDS if args.bare_batched else 0
    bare_commits = f"a commit every {ORDER_COMMIT_SECONDS:g} s" if args.bare_batched else "one commit each"
    sim = EmagSimulator(username="bench", password="bench-pw").start()
    unlimited = 10**6

    def raw_cost(calls=40):
        sim.rates = {"order": unlimited, "other": unlimited}
        session = requests.Session()
        items = [{"id": 900000 + i, "stock": [{"warehouse_id": 1, "value": 1}]} for i in range(50)]
        for item in items:
            sim.add_offer(item["id"])
        started = time.perf_counter()
        for _ in range(calls):
            session.post(f"{sim.base_url}/offer/save", json={"data": items}, auth=("bench", "bench-pw"), timeout=30)
        per_offer = (time.perf_counter() - started) / (calls * 50)
        started = time.perf_counter()
        for _ in range(calls):
            session.post(
                f"{sim.base_url}/order/read",
                json={"status": 1, "itemsPerPage": 1},
                auth=("bench", "bench-pw"),
                timeout=30,
            )
        per_call = (time.perf_counter() - started) / calls
        return per_offer, per_call

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        ron = env.ref("base.RON")
        ron.active = True
        if args.contacts:
            cr.execute(
                """
                INSERT INTO res_partner
                SELECT (jsonb_populate_record(t, jsonb_build_object(
                           'id', nextval('res_partner_id_seq'), 'name', 'Past customer ' || n,
                           'complete_name', 'Past customer ' || n, 'email', md5(n::text) || '@hash.emag.ro',
                           'phone', '07' || lpad(n::text, 8, '0'), 'parent_id', NULL, 'company_id', NULL,
                           'commercial_partner_id', NULL, 'user_id', NULL, 'active', true, 'type', 'contact',
                           'is_company', false))).*
                  FROM res_partner t, generate_series(1, %s) n
                 WHERE t.id = %s  -- a contact of the database as the pattern: every required column filled
                """,
                (args.contacts, env.ref("base.partner_admin").id),
            )
            cr.execute("ANALYZE res_partner")
        warehouse = env["stock.warehouse"].search([], limit=1)
        tax = env["account.tax"].create(
            {"name": "TVA 21% bench", "amount": 21, "type_tax_use": "sale", "price_include_override": "tax_excluded"}
        )
        channel = env["multichannel.channel"].create(
            {
                "name": "eMAG bench",
                "channel_type": "emag",
                "emag_platform": "ro",
                "pricelist_id": env["product.pricelist"].create({"name": "RON", "currency_id": ron.id}).id,
                "emag_username": "bench",
                "emag_password": "bench-pw",
                "retry_delay": 0.1,
                "stock_schedule": "off",
                "order_schedule": "off",
                "customer_country_id": env.ref("base.ro").id,
            }
        )
        channel.emag_base_url = sim.base_url
        products = env["product.product"].create(
            [
                {
                    "name": f"Bench {i}",
                    "default_code": f"B{i}",
                    "is_storable": True,
                    "list_price": 10 + i % 50,
                    "taxes_id": [Command.set(tax.ids)],
                }
                for i in range(args.offers)
            ]
        )
        for index, product in enumerate(products):
            env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 1000 + index % 7)
            sim.add_offer(index + 1, product.default_code)
        env["multichannel.product.binding"].create(
            [{"channel_id": channel.id, "product_id": p.id, "external_id": str(i + 1)} for i, p in enumerate(products)]
        )
        cr.commit()
        channel_id = channel.id

    def push(limited):
        rate = 3 if limited else unlimited
        sim.rates["other"] = rate
        sim.windows.clear()  # forget the raw calls made without the client's limiter
        ratelimit.LIMITS["other"] = rate
        ratelimit._limiters.clear()
        with registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            cr.execute("UPDATE multichannel_product_binding SET stock_pending = true, stock_pushed_at = NULL")
            env.invalidate_all()
            cr.commit()
            sim.log.clear()
            memory_before = rss_mb()
            started = time.perf_counter()
            channel = env["multichannel.channel"].browse(channel_id)
            if args.profile and not limited:
                _result, elapsed = harness.profiled("full push", channel._push, "stock", auto_commit=True)
            else:
                with harness.PhaseTimer(env, PUSH_PHASES) as phases:
                    channel._push("stock", auto_commit=True)
                elapsed = time.perf_counter() - started
                if not limited:
                    push_phases.update(phases.spent)
            memory_after = rss_mb()
        calls = len(sim.requests_to("offer/save"))
        throttled = len([e for e in sim.log if e.get("status") == 429])
        return args.offers / elapsed, calls, throttled, sim.max_rate("other"), elapsed, memory_before, memory_after

    def import_orders(limited, count):
        """``count`` new orders placed on eMAG and imported: (seconds, sale orders created)."""
        rate = 12 if limited else unlimited
        sim.rates["order"] = rate
        sim.windows.clear()
        ratelimit.LIMITS["order"] = rate
        ratelimit._limiters.clear()
        for index in range(count):
            sim.place_order([(index % args.offers + 1, 1)])
        with registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            channel = env["multichannel.channel"].browse(channel_id)
            before = env["sale.order"].search_count([("multichannel_channel_id", "=", channel_id)])
            started = time.perf_counter()
            if args.profile and not limited:
                _result, elapsed = harness.profiled("order import", channel._import_orders, auto_commit=True)
            else:
                with harness.PhaseTimer(env, PHASES) as phases:
                    channel._import_orders(auto_commit=True)
                elapsed = time.perf_counter() - started
                if not limited:
                    add_phases(import_phases, phases.spent, count)
            created = env["sale.order"].search_count([("multichannel_channel_id", "=", channel_id)]) - before
        return elapsed, created

    def bare_orders(count):
        """Odoo's own create + confirm of the last ``count`` imported orders, one commit each:
        (seconds, orders)."""
        with registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            imported = env["sale.order"].search(
                [("multichannel_channel_id", "=", channel_id)], order="id desc", limit=count
            )
            copies = [
                {
                    "partner_id": order.partner_id.id,
                    "partner_shipping_id": order.partner_shipping_id.id,
                    "pricelist_id": order.pricelist_id.id,
                    "date_order": order.date_order,
                    "order_line": [
                        (
                            0,
                            0,
                            {
                                "product_id": line.product_id.id,
                                "name": line.name,
                                "product_uom_qty": line.product_uom_qty,
                                "price_unit": line.price_unit,
                                "discount": line.discount,
                                "tax_id": [Command.set(line.tax_id.ids)],
                            },
                        )
                        for line in order.order_line
                    ],
                }
                for order in imported
            ]
            env.invalidate_all()

            def create_and_confirm():
                committed_at = time.monotonic()
                for values in copies:
                    env["sale.order"].create(values).action_confirm()
                    if time.monotonic() - committed_at >= bare_commit_seconds:
                        cr.commit()
                        committed_at = time.monotonic()
                cr.commit()

            if args.profile:
                _result, elapsed = harness.profiled("bare create + confirm", create_and_confirm)
            else:
                started = time.perf_counter()
                with harness.PhaseTimer(env, PHASES) as phases:
                    create_and_confirm()
                elapsed = time.perf_counter() - started
                add_phases(bare_phases, phases.spent, len(copies))
        return elapsed, len(copies)

    def add_phases(total, spent, orders):
        for key, seconds in spent.items():
            total[key] = total.get(key, 0.0) + seconds
        total["orders"] = total.get("orders", 0) + orders

    def paired_import_rounds():
        """The import and the bare create + confirm in alternating blocks (after a block of
        each to warm up), so that both see the same machine, the same caches and a sale
        order table of the same size: (orders/s imported, sale orders, bare orders/s)."""
        block = max(1, args.orders // args.rounds)
        import_orders(False, min(5, block))
        bare_orders(min(5, block))
        import_phases.clear()
        bare_phases.clear()
        spent = {"import": 0.0, "bare": 0.0}
        done = {"import": 0, "bare": 0}
        for index in range(args.rounds):
            # the bare side copies the last block imported: first or second in turn
            sides = ("import", "bare") if index % 2 == 0 else ("bare", "import")
            per_order = {}
            for side in sides:
                elapsed, count = import_orders(False, block) if side == "import" else bare_orders(block)
                spent[side] += elapsed
                done[side] += count
                per_order[side] = elapsed / count if count else None
            if per_order["import"] and per_order["bare"]:
                block_ratios.append(per_order["import"] / per_order["bare"])
        return done["import"] / spent["import"], done["import"], done["bare"] / spent["bare"]

    import_phases, bare_phases, push_phases = {}, {}, {}
    block_ratios = []  # the import's time per order over the bare's, round by round
    raw_offer, raw_order_call = raw_cost()
    limited_push = push(limited=True) if args.limited else (0, 0, 0, 0)
    free_push = push(limited=False)
    if args.limited:
        elapsed, created = import_orders(True, args.orders)
        limited_orders = (created / elapsed, created)
    free_rate, free_created, bare = paired_import_rounds()
    free_orders = (free_rate, free_created)
    sim.stop()
    raw_call = raw_offer * 50
    odoo_per_listing = (free_push[4] - free_push[1] * raw_call) / args.offers

    print(
        f"\neMAG benchmark: {args.offers} listings, {args.orders} orders per run"
        + (f", {args.contacts} contacts in Odoo before the orders" if args.contacts else "")
    )
    print(
        f"  simulator alone        {1 / raw_offer:10.0f} offers/s over raw HTTP (50 per call); "
        f"{1000 * raw_order_call:.2f} ms per order call"
    )
    if args.limited:
        print(
            f"  stock push, rate-limited  {limited_push[0]:7.0f} offers/s  ({limited_push[1]} calls, "
            f"max {limited_push[3]} req/s seen, {limited_push[2]} answered 429; eMAG's cap is 150 offers/s)"
        )
    print(
        f"  stock push, unthrottled   {free_push[0]:7.0f} offers/s  ({free_push[1]} calls) = "
        f"{free_push[0] * raw_offer:.2f} x the simulator's own speed"
    )
    print(
        f"  full push, Odoo's own time {1000 * odoo_per_listing:.3f} ms per listing (the push's "
        f"{free_push[4]:.2f}s minus {free_push[1]} calls x {1000 * raw_call:.1f} ms); memory "
        f"{free_push[5]:.0f} MB before, {free_push[6]:.0f} MB after"
    )
    if args.limited:
        print(f"  order import, rate-limited {limited_orders[0]:6.1f} orders/s ({limited_orders[1]} orders)")
    print(
        f"  order import, unthrottled  {free_orders[0]:6.1f} orders/s ({free_orders[1]} orders); "
        f"simulator's own share per order (3 order calls): {100 * 3 * raw_order_call * free_orders[0]:.1f}%"
    )
    print(
        f"  Odoo's bare create + confirm of the same orders, {bare_commits}: {bare:.1f} orders/s; the import takes "
        f"{bare / free_orders[0]:.2f}x its time ({1000 / free_orders[0] - 1000 / bare:+.1f} ms per order)"
    )
    if len(block_ratios) > 1:
        median, low, high = harness.median_interval(block_ratios)
        print(
            f"  round by round ({len(block_ratios)} pairs of blocks): median {median:.2f}x, "
            f"its 95% interval {low:.2f}x-{high:.2f}x"
        )
    if push_phases:
        print("  where the full push's time goes, ms per listing (inclusive):")
        for key, spent in push_phases.items():
            print(f"    {key:55} {1000 * spent / args.offers:8.3f}")
    if import_phases and bare_phases:
        print("  where an order's time goes, ms per order (inclusive: a step inside another counts in both):")
        per_order = 1000 / import_phases["orders"], 1000 / bare_phases["orders"]
        print(f"    {'step':55} {'import':>8} {'bare':>8}")
        print(f"    {'the whole':55} {1000 / free_orders[0]:8.1f} {1000 / bare:8.1f}")
        for key in import_phases:
            if key != "orders":
                spent = import_phases[key] * per_order[0], bare_phases.get(key, 0.0) * per_order[1]
                print(f"    {key:55} {spent[0]:8.1f} {spent[1]:8.1f}")
    print("  goals (#14):")
    print(
        f"    full push <= 0.2 ms per listing in Odoo: {1000 * odoo_per_listing:.3f} ms "
        f"{'met' if odoo_per_listing <= 0.0002 else 'NOT met'}"
    )
    if args.bare_batched:
        print("    order import <= 1.10x the bare create + confirm: not measured (its baseline commits each order)")
    else:
        print(
            f"    order import <= 1.10x the bare create + confirm: {bare / free_orders[0]:.2f}x "
            f"{'met' if bare / free_orders[0] <= 1.10 else 'NOT met'}"
        )
    print(
        f"    order import >= 10 orders/s: {free_orders[0]:.1f} {'met' if free_orders[0] >= 10 else 'NOT met'} "
        f"(the bare create + confirm alone: {bare:.1f}/s)"
    )


if __name__ == "__main__":
    options = harness.parse(
        __doc__, offers=2000, orders=200, limited=1, profile=0, rounds=5, contacts=0, bare_batched=0
    )
    harness.run(__file__, options, "stock_multichannel_emag", measure)
