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

``--instructions N`` counts instead of timing (``counted_work.py``: valgrind's callgrind;
needs valgrind and gcc): the databases are made in a PostgreSQL server of the benchmark's
own, which is then restarted under callgrind, and the operations run in N paired rounds
in an Odoo process under callgrind. Prints the instructions each operation cost in
Odoo's process and in the server, with and without the addons, and their ratio: the
same figures on a busy or an idle machine. The cyclic garbage collector runs between
the operations, not during them (its full passes walk every object of the process, and
land in one operation or another by chance).
"""

import gc
import os
import statistics
import subprocess
import sys
import time
from functools import partial

import counted_work
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
        # as after each cron's first run: its wake-ups taken, so that a wake-up asked for
        # afterwards is one the next operations can count on while it is pending (before
        # any run, none is ever counted on: every operation asked for its own)
        for kind in ("stock", "price", "order", "inbox"):
            env["multichannel.channel"]._consume_wakeups(kind)
    env.cr.execute("DELETE FROM ir_cron_trigger")


# the addons' code that runs in Odoo's own operations (see --profile)
ADDON_HOOKS = [
    ("stock.quant", "_multichannel_request_sync"),
    ("multichannel.sync.request", "_queue_collected_stock"),
    ("multichannel.sync.request", "_queue"),
    ("multichannel.sync.request", "_queue_stock_changes"),
    ("multichannel.channel", "_trigger_realtime"),
    ("multichannel.channel", "_wake_after_commit"),
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


def as_after_a_run(registry, cr):
    """What a cron worker keeping up leaves: no wake-up pending, nothing queued (committed)."""
    cr.execute("DELETE FROM ir_cron_trigger")
    if "multichannel.sync.request" in registry:
        cr.execute("DELETE FROM multichannel_sync_request; DELETE FROM multichannel_stock_change")
    cr.commit()


def paired_rounds(registries, measure_once, pending, count, offset):
    """``measure_once(registry, operation, round, pending)`` of every operation in both
    databases, ``count`` times, the database going first alternating from round to round."""
    results = {(name, which): [] for name, _label in OPERATIONS for which in ("without", "with")}
    for index in range(count):
        order = [("without", registries[0]), ("with", registries[1])]
        if index % 2:
            order.reverse()
        for name, _label in OPERATIONS:
            for which, registry in order:
                results[name, which].append(measure_once(registry, name, offset + index, pending))
    return results


def measure(registries, args):
    import odoo
    from odoo import api

    if args.stage == COUNTING:
        return count(registries, args)
    for registry, with_addons in zip(registries, (False, True), strict=True):
        with registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
            prepare(env, args, with_addons)
    if args.stage == PREPARING:
        return None

    from odoo.addons.stock_multichannel.lib import cron_wakeup

    def run_once(registry, name, round_index, pending):
        with registry.cursor() as cr:
            if not pending:
                as_after_a_run(registry, cr)
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            operations = Operations(env, round_index)
            statements = cr.sql_log_count
            started = time.perf_counter()
            getattr(operations, name)()
            cr.commit()
            timing = time.perf_counter() - started, cr.sql_log_count - statements
        # the wake-up the notifier thread asks for after the commit, outside the timing and
        # never in the next operation's (the counted figures include it)
        cron_wakeup.wait_until_sent()
        return timing

    rounds = partial(paired_rounds, registries, run_once)

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
        queue_statement(registries[1], run_once, args.profile)
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


PREPARING, COUNTING = 1, 2  # --stage, inside, with --instructions


def count(registries, args):
    """Inside an Odoo process under callgrind, with the server under callgrind too (the
    data made by the PREPARING stage): each operation's instructions, in paired rounds."""
    import odoo
    from odoo import api
    from odoo.addons.stock_multichannel.lib import cron_wakeup, kept_connections

    counts_dir = os.environ["SMC_COUNTS_DIR"]
    counter = counted_work.Counter(counts_dir)
    markers = {}  # backend pid -> SELECT pg_sleep(0) sent to it so far
    warming_up = True  # read by count_once when it runs: a table's warm-up round tolerates new connections

    def notified():
        """The notifier thread works on its own: each operation waits until it asked for the
        wake-up and sent the notification it was asked for (one operation at a time)."""
        if not cron_wakeup.wait_until_sent(300):
            raise counted_work.CountingUnavailable("the cron notifier never did what it was asked")

    def mark(connection, operation):
        # the notifier's connections: in their turn; its wake-ups' one left idle, as it leaves it
        with cron_wakeup._lock, cron_wakeup._wake_lock, connection.cursor() as marker:
            marker.execute(f"SELECT {counted_work.SERVER_MARKER}(0)")
        if connection is not operation and not connection.autocommit:
            connection.rollback()
        pid = connection.info.backend_pid
        markers[pid] = markers.get(pid, 0) + 1
        return pid, markers[pid]

    def connections(cr):
        """The operation's connection, and the notifier thread's: to ``postgres`` (the
        notifications) and to the database (the wake-ups asked for after a commit)."""
        keys = (("postgres", True, ""), (cr.dbname, False, "wake"))
        kept = (kept_connections._kept.get(key, (None, None))[1] for key in keys)
        return [cr._cnx] + [connection for connection in kept if connection is not None and not connection.closed]

    def count_once(registry, name, round_index, pending):
        with registry.cursor() as cr:
            if not pending:
                as_after_a_run(registry, cr)
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            operations = Operations(env, round_index)
            gc.collect()
            gc.disable()
            before = {connection: mark(connection, cr._cnx) for connection in connections(cr)}
            counter.zero()
            statements = cr.sql_log_count
            getattr(operations, name)()
            cr.commit()
            notified()
            python = counter.dump()
            statements = cr.sql_log_count - statements
            server = 0
            for connection in connections(cr):
                pid, number = mark(connection, cr._cnx)
                if before.get(connection) != (pid, number - 1) and not warming_up:
                    # opened or replaced during the operation: its first count holds its start
                    which = "the operation's" if connection is cr._cnx else "the cron notifier's"
                    raise counted_work.CountingUnavailable(
                        f"{which} connection changed during {name}: backend and marker {before.get(connection)} "
                        f"before, {(pid, number)} after"
                    )
                server += counted_work.backend_count(counts_dir, pid, number)
            gc.enable()
            return python, server, statements

    rounds = partial(paired_rounds, registries, count_once)

    def report(title, counts):
        print(f"\n{title}")
        print(
            "| Odoo's own operation | instructions without | with addons | ratio | in Odoo's process "
            "| in PostgreSQL | statements | goal <= 1.03x |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for name, label in OPERATIONS:
            medians = {
                which: [statistics.median(c[part] for c in counts[name, which]) for part in range(3)]
                for which in ("without", "with")
            }
            (py_o, pg_o, st_o), (py_w, pg_w, st_w) = medians["without"], medians["with"]
            ratio = (py_w + pg_w) / (py_o + pg_o)
            pairs = zip(counts[name, "with"], counts[name, "without"], strict=True)
            spread = [(w[0] + w[1]) / (o[0] + o[1]) for w, o in pairs]
            print(
                f"| {label} | {(py_o + pg_o) / 1e6:.1f} M | {(py_w + pg_w) / 1e6:.1f} M | {ratio:.3f}x "
                f"(rounds {min(spread):.3f}-{max(spread):.3f}) | {py_o / 1e6:.1f} → {py_w / 1e6:.1f} M "
                f"| {pg_o / 1e6:.1f} → {pg_w / 1e6:.1f} M | {st_o:g} → {st_w:g} "
                f"| {'met' if ratio <= 1.03 else 'NOT met'} |"
            )

    counter.start()
    # each table after a round of warm-up: the counted server's new backends, the
    # process's caches; the first deletes of the wake-ups and queue the other table makes
    rounds(True, 2, 5000)
    warming_up = False
    report(
        f"Odoo overhead, counted: {args.products} products, 3 real-time channels listing each, "
        f"{args.instructions} paired rounds (wake-ups pending, as while a push runs)",
        rounds(True, args.instructions, 6000),
    )
    if args.no_pending:
        warming_up = True
        rounds(False, 1, 7000)
        warming_up = False
        report(
            "Same, every pending wake-up and queued request deleted before each operation (a cron worker keeping up)",
            rounds(False, args.instructions, 8000),
        )
    return None


QUEUE_METHODS = [("multichannel.sync.request", "_queue_stock_changes"), ("multichannel.sync.request", "_queue")]


def queue_statement(registry, run_once, runs):
    """What the one statement the addons add to Odoo's operations costs inside them (the
    queue statement, sent at commit): in every other run it is sent under ``EXPLAIN
    (ANALYZE, TIMING OFF, SUMMARY)`` for the server's planning and execution, in the
    others timed from Odoo's ``execute`` until its answer, after a trivial statement on
    the same cursor (the floor of any statement). Then the wake-up function, a wake-up
    pending, on a connection borrowed from Odoo's pool (which psycopg2's ``reset()``
    cleared with ``DISCARD ALL``: the plans the server kept for it are gone): its first
    and second call in that transaction, and its first call in the next transaction on
    the same connection (not reset), each once the transaction's ``BEGIN`` was sent."""
    import odoo
    from odoo import api
    from odoo.tools import SQL

    inside = {"queue": False}
    figures = {}

    def flagged(original, _key):
        def queue(*args, **kwargs):
            inside["queue"] = True
            try:
                return original(*args, **kwargs)
            finally:
                inside["queue"] = False

        return queue

    def watched(cr, explain):
        execute = cr.execute

        def watched_execute(query, params=None, log_exceptions=True):
            if not inside["queue"] or not isinstance(query, SQL) or "INSERT" not in query.code:
                return execute(query, params, log_exceptions)
            if explain:
                execute(SQL("EXPLAIN (ANALYZE, TIMING OFF, SUMMARY, FORMAT JSON) %s", query))
                plan = cr.fetchone()[0][0]
                figures.setdefault("planned", []).append(plan["Planning Time"])
                figures.setdefault("run", []).append(plan["Execution Time"])
                return execute("SELECT false")  # its answer read: no wake-up notified
            started = time.perf_counter()
            execute("SELECT 1")
            figures.setdefault("a trivial statement", []).append(1000 * (time.perf_counter() - started))
            started = time.perf_counter()
            result = execute(query, params, log_exceptions)
            figures.setdefault("sent and answered", []).append(1000 * (time.perf_counter() - started))
            return result

        return watched_execute

    original_cursor = registry.cursor
    try:
        with harness.patched_methods(registry, QUEUE_METHODS, flagged):
            print("\nthe queue statement inside Odoo's operations, ms (median; wake-ups pending):")
            for name, _label in OPERATIONS:
                figures.clear()
                for index in range(runs):

                    def cursor(_explain=index % 2 == 1):
                        cr = original_cursor()
                        cr.execute = watched(cr, _explain)
                        return cr

                    registry.cursor = cursor
                    run_once(registry, name, 5000 + index, True)
                medians = (f"{key} {statistics.median(values):.3f}" for key, values in figures.items())
                print(f"  {name}: " + ", ".join(medians))
    finally:
        vars(registry).pop("cursor", None)
    calls = {"first after the reset": [], "second": [], "first in the next transaction": []}

    def call(cr, which, cron_id):
        started = time.perf_counter()
        cr.execute("SELECT multichannel_wake_cron(%s, %s)", [cron_id, odoo.SUPERUSER_ID])
        cr.fetchone()
        calls[which].append(1000 * (time.perf_counter() - started))

    for _index in range(runs):
        with registry.cursor() as cr:
            cron_id = api.Environment(cr, odoo.SUPERUSER_ID, {})["multichannel.channel"]._cron_id("stock")
            cr.execute("SELECT 1")  # the transaction's BEGIN sent
            call(cr, "first after the reset", cron_id)
            call(cr, "second", cron_id)
            cr.rollback()
            cr.execute("SELECT 1")
            call(cr, "first in the next transaction", cron_id)
            cr.rollback()
    medians = (f"{which} {statistics.median(values):.3f}" for which, values in calls.items())
    print("  the wake-up function on a borrowed connection, a wake-up pending: " + ", ".join(medians))


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
    args = harness.parse(__doc__, products=2000, rounds=40, no_pending=0, profile=0, instructions=0, stage=0)
    # the same data in both: Odoo's sale_stock alone, and with the addons and their channels
    addons = ["sale_stock", "stock_multichannel_emag,stock_multichannel_shop"]
    if not args.instructions or args.inside:
        return harness.run(__file__, args, addons, measure)
    try:
        counted_work.check_tools()
    except counted_work.CountingUnavailable as exc:
        sys.exit(f"[bench] cannot count instructions: {exc}")
    cluster = None
    try:
        cluster = counted_work.PrivateCluster()
        cluster.init()
        cluster.start()
        # the same hashes in every run: Python's sets and dicts iterate the same way
        os.environ.update(cluster.environ(), SMC_COUNTS_DIR=str(cluster.counts), PYTHONHASHSEED="0")

        def stages(run_inside):
            run_inside(stage=PREPARING)
            cluster.stop()
            cluster.start(counted=True)
            run_inside(counted_work.callgrind_command(cluster.counts), stage=COUNTING)

        return harness.run(__file__, args, addons, measure, inside_runs=stages)
    except (counted_work.CountingUnavailable, OSError, subprocess.CalledProcessError) as exc:
        tail = cluster.log_tail() if cluster else ""
        sys.exit(f"[bench] counting failed: {exc}" + (f"\nthe private server's log ends with:\n{tail}" if tail else ""))
    finally:
        if cluster:
            cluster.remove()


if __name__ == "__main__":
    sys.exit(main())
