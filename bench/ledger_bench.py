"""Ledger benchmark: what a ledger of months costs the push and the dashboard.

    python3 bench/ledger_bench.py [--rows 2000000] [--rounds 20]

Creates a throw-away database with 3 channels listing 2,000 products each and a ledger
of N lines spread over the last 90 days (the channels' default retention): stock, price
and order lines, a few refused. Then times, in the same run, under the ledger's former
indexes (one on the channel, the kind and the result each) and under its indexes now
(the channel with the date), alternating the two sets twice (A B A B):
- the dashboard's ledger figures for the 3 channels: the push latency of the last 24
  hours and the last accepted push (before: Odoo's ``_read_group`` of the newest
  accepted line, as the dashboard asked for it; now: what ``_compute_dashboard`` runs);
- a push's ledger lines, 50 listings in one statement (what every push batch writes);
- the retention's clean-up finding what is past 90 days (nothing: counted, not deleted).
Prints the medians and the ratios now / before.
"""

import statistics
import time

import harness

FORMER_INDEXES = {
    "multichannel_ledger__channel_id_index": "channel_id",
    "multichannel_ledger__kind_index": "kind",
    "multichannel_ledger__result_index": "result",
}
CURRENT_INDEXES = {"multichannel_ledger_channel_date_index": "channel_id, create_date"}


def use_indexes(cr, wanted, unwanted):
    for name in unwanted:
        cr.execute(f"DROP INDEX IF EXISTS {name}")
    for name, columns in wanted.items():
        cr.execute(f"CREATE INDEX IF NOT EXISTS {name} ON multichannel_ledger ({columns})")
    cr.execute("ANALYZE multichannel_ledger")
    cr.commit()


def fill_ledger(cr, channel_ids, rows):
    """``rows`` lines over the last 90 days, newest last, as pushes and imports write them."""
    cr.execute(
        """
        INSERT INTO multichannel_ledger (channel_id, company_id, kind, binding_id, product_id, old_value,
                    new_value, cause, result, answer, duration_ms, latency_ms,
                    create_uid, create_date, write_uid, write_date)
        SELECT c.id, c.company_id,
               CASE WHEN n %% 10 < 6 THEN 'stock' WHEN n %% 10 < 9 THEN 'price' ELSE 'order' END,
               b.id, b.product_id, '4', '5', 'stock change',
               CASE WHEN n %% 50 = 0 THEN 'refused' ELSE 'ok' END, '', 40, 200 + n %% 1500,
               1, at, 1, at
          FROM generate_series(1, %(rows)s) AS n
          CROSS JOIN LATERAL (SELECT (now() AT TIME ZONE 'UTC') - interval '90 days'
                                     + (interval '90 days') * n / %(rows)s AS at) AS t
          JOIN multichannel_channel c ON c.id = (%(channels)s::int[])[1 + n %% 3]
          JOIN (SELECT channel_id, min(id) AS first_id FROM multichannel_product_binding GROUP BY channel_id) AS f
            ON f.channel_id = c.id
          JOIN multichannel_product_binding b ON b.id = f.first_id + n %% 2000
        """,
        {"rows": rows, "channels": channel_ids},
    )
    cr.commit()


def former_dashboard(env, channels):
    """The dashboard's figures as ``_compute_dashboard`` asked for them before: the latency
    statement and the orders of the day (both unchanged), and Odoo's grouped maximum of
    the accepted lines."""
    since = env.cr.now()
    env.cr.execute(
        """
        SELECT channel_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms)
          FROM multichannel_ledger
         WHERE channel_id = ANY(%s) AND kind = 'stock' AND result = 'ok'
           AND create_date >= %s::timestamp - interval '1 day' AND latency_ms > 0
         GROUP BY channel_id
        """,
        (channels.ids, since),
    )
    env.cr.fetchall()
    env["sale.order"].sudo()._read_group(  # unchanged, as _compute_dashboard does it
        [("multichannel_channel_id", "in", channels.ids), ("create_date", ">=", since)],
        ["multichannel_channel_id"],
        ["__count"],
    )
    return dict(
        env["multichannel.ledger"]._read_group(
            [("channel_id", "in", channels.ids), ("kind", "in", ("stock", "price")), ("result", "=", "ok")],
            ["channel_id"],
            ["create_date:max"],
        )
    )


def current_dashboard(env, channels):
    channels.invalidate_recordset()
    channels._compute_dashboard()
    return {channel: channel.last_push_ok_at for channel in channels}


def measure(registry, args):
    import odoo
    from odoo import Command, api

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        warehouse = env["stock.warehouse"].search([], limit=1)
        products = env["product.product"].create(
            [{"name": f"Bench {i}", "default_code": f"LB{i}", "is_storable": True} for i in range(2000)]
        )
        channels = env["multichannel.channel"].create(
            [{"name": f"Bench {i}", "warehouse_ids": [Command.set(warehouse.ids)]} for i in range(3)]
        )
        for channel in channels:
            env["multichannel.product.binding"].create(
                [{"channel_id": channel.id, "product_id": p.id, "external_id": str(p.id)} for p in products]
            )
        cr.commit()
        started = time.perf_counter()
        fill_ledger(cr, channels.ids, args.rows)
        cr.execute("SELECT pg_size_pretty(pg_total_relation_size('multichannel_ledger'))")
        size = cr.fetchone()[0]
        print(
            f"\nLedger benchmark: {args.rows:,} lines over 90 days, 3 channels ({size} with its indexes, "
            f"filled in {time.perf_counter() - started:.0f} s)"
        )
        listings = env["multichannel.product.binding"].search([("channel_id", "=", channels[0].id)], limit=50)
        push_lines = [
            {
                "binding_id": b.id,
                "product_id": b.product_id.id,
                "old_value": "4",
                "new_value": "5",
                "cause": "stock change",
                "result": "ok",
                "answer": "",
                "latency_ms": 300,
            }
            for b in listings
        ]
        Ledger = env["multichannel.ledger"]
        setups = {
            "before": (FORMER_INDEXES, CURRENT_INDEXES, former_dashboard),
            "now": (CURRENT_INDEXES, FORMER_INDEXES, current_dashboard),
        }
        times = {(setup, step): [] for setup in setups for step in ("dashboard", "push", "clean-up")}
        answers = {}
        for setup in ("before", "now", "before", "now"):
            wanted, unwanted, dashboard = setups[setup]
            use_indexes(cr, wanted, unwanted)
            for _round in range(args.rounds):
                env.invalidate_all()
                started = time.perf_counter()
                answers[setup] = dashboard(env, channels)
                times[(setup, "dashboard")].append(time.perf_counter() - started)
                started = time.perf_counter()
                Ledger._insert_lines(channels[0], "stock", push_lines, 40)
                times[(setup, "push")].append(time.perf_counter() - started)
                cr.rollback()
                started = time.perf_counter()
                cr.execute(
                    "SELECT count(*) FROM multichannel_ledger WHERE channel_id = %s "
                    "AND create_date < (now() AT TIME ZONE 'UTC') - interval '91 days'",
                    (channels[0].id,),
                )
                cr.fetchone()
                times[(setup, "clean-up")].append(time.perf_counter() - started)
        same = {c.id: v for c, v in answers["before"].items()} == {c.id: v for c, v in answers["now"].items()}
        print(f"{args.rounds * 2} rounds each; the last accepted push the same both ways: {same}")
        print("| step | before | now | now / before |")
        print("|---|---|---|---|")
        for step, label in (
            ("dashboard", "dashboard ledger figures, 3 channels"),
            ("push", "a push batch's 50 ledger lines"),
            ("clean-up", "retention clean-up's lookup, one channel"),
        ):
            before = statistics.median(times[("before", step)]) * 1000
            now = statistics.median(times[("now", step)]) * 1000
            print(f"| {label} | {before:.2f} ms | {now:.2f} ms | {now / before:.3f}x |")


if __name__ == "__main__":
    options = harness.parse(__doc__, rows=2000000, rounds=20)
    harness.run(__file__, options, "stock_multichannel", measure)
