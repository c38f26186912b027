"""Odoo overhead benchmark: what the addons cost to Odoo's own stock and sale operations.

    python3 bench/odoo_overhead_bench.py [--products 2000] [--rounds 40]

Creates two throw-away databases with the same data (products in stock, customers, the
RON and BGN currencies and pricelists): one with ``sale_stock`` alone, one with the
addons (eMAG and shop connectors) and 3 channels in real time (stock, prices, orders)
listing every product. Then, in paired rounds (each round runs every
operation once in each database, the order of the two databases alternating), times
Odoo's own operations, each in its own committed transaction (the addons' work at
commit included):
- one inventory adjustment (a counted quantity applied);
- a receipt of 3 products created, confirmed and validated;
- a sale order of 3 lines created and confirmed;
- the delivery of that sale order validated.
No cron worker runs: the wake-ups the addons ask for stay pending, as they would
while the push is busy. ``--no-pending`` (a second table) deletes the pending
wake-ups and the queued requests before each operation instead, as a cron worker
keeping up would (it takes the wake-up and drains the queue): every operation then
asks for its own wake-up. Prints medians and the ratios, against the
goal of #14 (at most 1.03x), and the SQL statements each operation sent (counted work,
which the machine's load does not move). Then compares the two ways of waking a cron (the inbox's):
Odoo's ``ir.cron._trigger`` and the addons' ``_trigger_realtime``.
"""

import statistics
import sys
import time

import harness

OPERATIONS = [
    ("adjustment", "one inventory adjustment"),
    ("receipt", "receipt created, confirmed, validated"),
    ("sale", "sale order, 3 lines, create + confirm"),
    ("delivery", "delivery validated"),
]


def prepare(env, args, with_addons):
    from odoo import Command

    warehouse = env["stock.warehouse"].search([], limit=1)
    products = env["product.product"].create(
        [
            {"name": f"Bench {i}", "default_code": f"OV{i}", "is_storable": True, "list_price": 10 + i % 50}
            for i in range(args.products)
        ]
    )
    env["stock.quant"].with_context(inventory_mode=True).create(
        [{"product_id": p.id, "location_id": warehouse.lot_stock_id.id, "inventory_quantity": 10**6} for p in products]
    ).action_apply_inventory()
    env["res.partner"].create([{"name": "Bench customer"}, {"name": "Bench vendor"}])
    # the merchant's currencies and pricelists, in both databases: a merchant selling in
    # Romania and Bulgaria has them with or without the addons (and Odoo's sale orders
    # price through pricelists once there are several)
    pricelist = env["product.pricelist"].search([], limit=1)
    ron, bgn = env.ref("base.RON"), env.ref("base.BGN")
    (ron | bgn).active = True
    pricelists = env["product.pricelist"].create(
        [{"name": "RON", "currency_id": ron.id}, {"name": "BGN", "currency_id": bgn.id}]
    )
    if with_addons:
        realtime = {"stock_schedule": "realtime", "price_schedule": "realtime", "order_schedule": "realtime"}
        channels = env["multichannel.channel"].create(
            [
                dict(
                    realtime,
                    name="eMAG RO",
                    channel_type="emag",
                    emag_platform="ro",
                    pricelist_id=pricelists[0].id,
                    warehouse_ids=[Command.set(warehouse.ids)],
                ),
                dict(
                    realtime,
                    name="eMAG BG",
                    channel_type="emag",
                    emag_platform="bg",
                    pricelist_id=pricelists[1].id,
                    warehouse_ids=[Command.set(warehouse.ids)],
                ),
                dict(
                    realtime,
                    name="Shop",
                    channel_type="woocommerce",
                    woo_url="https://shop.example.com",
                    pricelist_id=pricelist.id,
                    warehouse_ids=[Command.set(warehouse.ids)],
                ),
            ]
        )
        for channel in channels:
            env["multichannel.product.binding"].create(
                [{"channel_id": channel.id, "product_id": p.id, "external_id": str(p.id)} for p in products]
            )
        # as after the first push: what the channels show is what Odoo wants
        env.cr.execute("DELETE FROM multichannel_sync_request; DELETE FROM multichannel_stock_change")
        env.cr.execute(
            "UPDATE multichannel_product_binding SET stock_pending = false, price_pending = false, state = 'synced'"
        )
    env.cr.execute("DELETE FROM ir_cron_trigger")


# the addons' code that runs in Odoo's own operations (see --profile)
ADDON_HOOKS = [
    ("stock.quant", "_multichannel_request_sync"),
    ("multichannel.sync.request", "_queue_collected_stock"),
    ("multichannel.sync.request", "_queue"),
    ("multichannel.sync.request", "_queue_stock_changes"),
    ("multichannel.channel", "_trigger_realtime"),
]


class Operations:
    """Odoo's own operations, the same in both databases."""

    def __init__(self, env, round_index):
        self.env = env
        self.round = round_index
        self.warehouse = env["stock.warehouse"].search([], limit=1)
        products = env["product.product"].search([("default_code", "=like", "OV%")], order="id")
        self.products = products
        self.customer = env["res.partner"].search([("name", "=", "Bench customer")], limit=1)
        self.vendor = env["res.partner"].search([("name", "=", "Bench vendor")], limit=1)

    def _three(self, offset):
        count = len(self.products)
        return [self.products[(self.round * 7 + offset + k * 101) % count] for k in range(3)]

    def adjustment(self):
        product = self._three(0)[0]
        quant = (
            self.env["stock.quant"]
            .with_context(inventory_mode=True)
            .create(
                {
                    "product_id": product.id,
                    "location_id": self.warehouse.lot_stock_id.id,
                    "inventory_quantity": 10**6 - self.round,
                }
            )
        )
        quant.action_apply_inventory()

    def receipt(self):
        picking_type = self.warehouse.in_type_id
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "partner_id": self.vendor.id,
                "location_id": picking_type.default_location_src_id.id,
                "location_dest_id": picking_type.default_location_dest_id.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom_qty": 5,
                            "product_uom": product.uom_id.id,
                            "location_id": picking_type.default_location_src_id.id,
                            "location_dest_id": picking_type.default_location_dest_id.id,
                        },
                    )
                    for product in self._three(1)
                ],
            }
        )
        picking.action_confirm()
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        picking.move_ids.picked = True
        picking.button_validate()

    def sale(self):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "client_order_ref": f"bench-{self.round}",
                "order_line": [
                    (0, 0, {"product_id": product.id, "product_uom_qty": 1 + k})
                    for k, product in enumerate(self._three(2))
                ],
            }
        )
        order.action_confirm()

    def delivery(self):
        order = self.env["sale.order"].search([("client_order_ref", "=", f"bench-{self.round}")], limit=1)
        picking = order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        picking.move_ids.picked = True
        picking.button_validate()


def measure(registries, args):
    import odoo
    from odoo import api

    for registry, with_addons in zip(registries, (False, True), strict=True):
        with registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
            prepare(env, args, with_addons)

    def run_once(registry, name, round_index, pending):
        with registry.cursor() as cr:
            if not pending:
                cr.execute("DELETE FROM ir_cron_trigger")
                if "multichannel.sync.request" in registry:
                    cr.execute("DELETE FROM multichannel_sync_request; DELETE FROM multichannel_stock_change")
                cr.commit()
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            operations = Operations(env, round_index)
            statements = cr.sql_log_count
            started = time.perf_counter()
            getattr(operations, name)()
            cr.commit()
            return time.perf_counter() - started, cr.sql_log_count - statements

    def rounds(pending, count, offset):
        timings = {(name, which): [] for name, _label in OPERATIONS for which in ("without", "with")}
        for index in range(count):
            order = [("without", registries[0]), ("with", registries[1])]
            if index % 2:
                order.reverse()
            for name, _label in OPERATIONS:
                for which, registry in order:
                    timings[name, which].append(run_once(registry, name, offset + index, pending))
        return timings

    def report(title, timings):
        print(f"\n{title}")
        print(
            "| Odoo's own operation | without | with addons | ratio | paired ratio (median) "
            "| its 95% interval | goal <= 1.03x |"
        )
        print("|---|---|---|---|---|---|---|")
        for name, label in OPERATIONS:
            without = [seconds for seconds, _statements in timings[name, "without"]]
            with_ = [seconds for seconds, _statements in timings[name, "with"]]
            paired, low, high = harness.median_interval(w / o for w, o in zip(with_, without, strict=True))
            ratio = statistics.median(with_) / statistics.median(without)
            if max(ratio, paired) <= 1.03:
                verdict = "met"
            else:
                verdict = "NOT met" + (" (1.03x inside the interval)" if low <= 1.03 <= high else "")
            print(
                f"| {label} | {1000 * statistics.median(without):.1f} ms | {1000 * statistics.median(with_):.1f} ms "
                f"| {ratio:.3f}x | {paired:.3f}x | {low:.3f}x-{high:.3f}x | {verdict} |"
            )
        # counted work, the same on any machine: the timings above move with its load
        print("\nSQL statements sent by the operation's cursor (median; the NOTIFY on a kept connection not counted):")
        for name, label in OPERATIONS:
            without, with_ = (statistics.median(f[1] for f in timings[name, which]) for which in ("without", "with"))
            print(f"  {label}: {without:g} without, {with_:g} with the addons ({with_ - without:+g})")

    rounds(True, 5, 0)  # warm-up: caches, prepared plans, the first wake-up
    if args.profile:
        for name, _label in OPERATIONS:
            harness.profiled(
                f"{name}, {args.profile} runs with the addons",
                lambda name=name: [run_once(registries[1], name, 3000 + index, True) for index in range(args.profile)],
            )
        # the addons' own hooks, timed without a profiler: what of the difference they are
        with registries[1].cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            phases = harness.PhaseTimer(env, ADDON_HOOKS)
        print(f"\nthe addons' own hooks, ms per operation ({args.profile} runs each, wake-ups pending):")
        for name, _label in OPERATIONS:
            spent = {}
            for which, registry in (("without", registries[0]), ("with", registries[1])):
                timer = phases if which == "with" else None
                started = time.perf_counter()
                for index in range(args.profile):
                    if timer:
                        with timer:
                            run_once(registry, name, 4000 + index, True)
                    else:
                        run_once(registry, name, 4000 + index, True)
                spent[which] = 1000 * (time.perf_counter() - started) / args.profile
            hooks = {key: 1000 * value / args.profile for key, value in phases.spent.items() if value}
            print(f"  {name}: without {spent['without']:.1f} ms, with {spent['with']:.1f} ms; hooks: {hooks}")
            phases.spent = dict.fromkeys(phases.spent, 0.0)
        return
    report(
        f"Odoo overhead benchmark: {args.products} products, 3 real-time channels listing each, "
        f"{args.rounds} paired rounds (wake-ups pending, as while a push runs)",
        rounds(True, args.rounds, 1000),
    )
    if args.no_pending:
        report(
            "Same, every pending wake-up and queued request deleted before each operation (a cron worker keeping up)",
            rounds(False, args.rounds, 2000),
        )
    wake_ups(registries[1], args.rounds)
    with registries[1].cursor() as cr:
        cr.execute("SELECT count(*) FROM multichannel_sync_request")
        requests = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM multichannel_stock_change")
        changes = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM ir_cron_trigger")
        triggers = cr.fetchone()[0]
    print(
        f"\nleft for the push: {changes} stock changes (product rows), {requests} listing requests; "
        f"cron triggers pending: {triggers}"
    )


def wake_ups(registry, count):
    """A wake-up of the inbox cron asked for and committed, Odoo's way (``ir.cron._trigger``:
    a trigger, and a NOTIFY on a new connection to ``postgres`` after the commit) and the
    project's (``_trigger_realtime``: the pending wake-up looked for, else a trigger; a
    NOTIFY on a kept connection), in paired rounds, with no wake-up pending (each asks
    for one and notifies) and with one pending."""
    import odoo
    from odoo import api

    def once(how, pending):
        with registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            if not pending:
                cr.execute("DELETE FROM ir_cron_trigger")
                cr.commit()
            started = time.perf_counter()
            if how == "odoo":
                env.ref("stock_multichannel.ir_cron_process_inbox")._trigger()
            else:
                env["multichannel.channel"]._trigger_realtime("inbox")
            cr.commit()
            return time.perf_counter() - started

    print("\nWaking the inbox cron: a wake-up asked for, committed and notified (paired rounds)")
    print("| | Odoo's `_trigger` | `_trigger_realtime` | ratio |")
    print("|---|---|---|---|")
    for pending, label in ((False, "no wake-up pending"), (True, "a wake-up pending")):
        timings = {"odoo": [], "ours": []}
        for index in range(count + 3):
            order = ("odoo", "ours") if index % 2 else ("ours", "odoo")
            for how in order:
                spent = once(how, pending)
                if index >= 3:  # warm-up
                    timings[how].append(spent)
        odoo_ms, ours_ms = (1000 * statistics.median(timings[how]) for how in ("odoo", "ours"))
        print(f"| {label} | {odoo_ms:.2f} ms | {ours_ms:.2f} ms | {ours_ms / odoo_ms:.2f}x |")


def main():
    args = harness.parse(__doc__, products=2000, rounds=40, no_pending=0, profile=0)
    # the same data in both: Odoo's sale_stock alone, and with the addons and their channels
    return harness.run(__file__, args, ["sale_stock", "stock_multichannel_emag,stock_multichannel_shop"], measure)


if __name__ == "__main__":
    sys.exit(main())
