"""History benchmark: what months of ledger lines and channel orders cost the push, Odoo's
own sale orders and the dashboard.

    python3 bench/history_bench.py [--rows 2000000] [--orders 300000] [--rounds 20]

Creates a throw-away database with 4 channels listing 2,000 products each, a ledger of
``rows`` lines spread over the last 90 days on 3 of them (the channels' default
retention: stock, price and order lines, a few refused) and a sixth as many on the
fourth, all refused (no accepted push to find) and ``orders`` sale orders of the channels over a
year (1 in 500 oversold) beside as many of Odoo's own. Then times, in the same run,
under the former indexes (the ledger's on the channel, the kind and the result each;
the sale orders' on the channel, the channel's order id and the oversold flag, each
over every sale order) and under the indexes now (the ledger's on the channel with the
date; partial ones on the channels' sale orders only), alternating the two sets twice
(A B A B):
- the dashboard's figures for the 3 channels (``_compute_counters``, unchanged, and
  ``_compute_dashboard``: before, Odoo's ``_read_group`` of the newest accepted ledger
  line, as it asked for it; now, what it runs);
- a push's ledger lines, 50 listings in one statement (what every push batch writes);
- the retention's clean-up (nothing is past 90 days; rolled back);
- one of Odoo's own sale orders inserted (a copy of one, no channel), rolled back.
Prints the medians and the ratios now / before.
"""

import statistics
import time

import harness

# name: (table, columns, condition; "UNIQUE" first for a unique index)
FORMER_INDEXES = {
    "multichannel_ledger__channel_id_index": ("multichannel_ledger", "channel_id", ""),
    "multichannel_ledger__kind_index": ("multichannel_ledger", "kind", ""),
    "multichannel_ledger__result_index": ("multichannel_ledger", "result", ""),
    "sale_order__multichannel_channel_id_index": ("sale_order", "multichannel_channel_id", ""),
    "sale_order__multichannel_external_ref_index": ("sale_order", "multichannel_external_ref", ""),
    "sale_order__multichannel_oversold_index": ("sale_order", "multichannel_oversold", ""),
    "sale_order_multichannel_external_uniq": (
        "sale_order",
        "multichannel_channel_id, multichannel_external_ref, multichannel_order_id",
        "UNIQUE",
    ),
}
CURRENT_INDEXES = {
    "multichannel_ledger_channel_kind_result_date_index": (
        "multichannel_ledger",
        "channel_id, kind, result, create_date",
        "",
    ),
    "sale_order_multichannel_channel_date_index": (
        "sale_order",
        "multichannel_channel_id, create_date",
        "multichannel_channel_id IS NOT NULL",
    ),
    "sale_order_multichannel_external_ref_index": (
        "sale_order",
        "multichannel_external_ref",
        "multichannel_external_ref IS NOT NULL",
    ),
    "sale_order_multichannel_oversold_index": ("sale_order", "multichannel_channel_id", "multichannel_oversold"),
    "sale_order_multichannel_external_unique_index": (
        "sale_order",
        "multichannel_channel_id, multichannel_external_ref, multichannel_order_id",
        "UNIQUE multichannel_channel_id IS NOT NULL",
    ),
}


def use_indexes(cr, wanted, unwanted):
    for name in unwanted:
        cr.execute(f"DROP INDEX IF EXISTS {name}")
    for name, (table, columns, condition) in wanted.items():
        unique = condition.startswith("UNIQUE")
        condition = condition.removeprefix("UNIQUE").strip()
        where = f" WHERE {condition}" if condition else ""
        cr.execute(f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS {name} ON {table} ({columns}){where}")
    cr.execute("ANALYZE multichannel_ledger; ANALYZE sale_order")
    cr.commit()


def fill_sale_orders(cr, template_id, channel_ids, orders):
    """``orders`` copies of one sale order for the channels over the last year, as many of
    Odoo's own (no channel): every column copied but the name, the dates and the channel's."""
    own = {"id", "name", "create_date", "write_date", "date_order"}
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'sale_order' "
        "AND column_name NOT LIKE 'multichannel%%'"
    )
    columns = [name for (name,) in cr.fetchall() if name not in own]
    listed = ", ".join(f'"{name}"' for name in columns)
    copied = ", ".join(f't."{name}"' for name in columns)
    cr.execute(
        f"""
        INSERT INTO sale_order ({listed}, name, create_date, write_date, date_order,
                                multichannel_channel_id, multichannel_external_ref, multichannel_oversold)
        SELECT {copied}, 'H' || n, at, at, at,
               CASE WHEN n %% 2 = 0 THEN (%(channels)s::int[])[1 + n %% 3] END,
               CASE WHEN n %% 2 = 0 THEN n::varchar END,
               CASE WHEN n %% 2 = 0 AND n %% 1000 = 0 THEN true END
          FROM sale_order t, generate_series(1, %(rows)s) AS n,
               LATERAL (SELECT (now() AT TIME ZONE 'UTC') - interval '365 days'
                               + (interval '365 days') * n / %(rows)s AS at) AS d
         WHERE t.id = %(template)s
        """,
        {"rows": orders * 2, "channels": channel_ids, "template": template_id},
    )
    cr.commit()


def fill_ledger(cr, channel_ids, rows, refused_every=50):
    """``rows`` lines over the last 90 days, newest last, as pushes and imports write them,
    1 in ``refused_every`` refused."""
    cr.execute(
        """
        INSERT INTO multichannel_ledger (channel_id, company_id, kind, binding_id, product_id, old_value,
                    new_value, cause, result, answer, duration_ms, latency_ms,
                    create_uid, create_date, write_uid, write_date)
        SELECT c.id, c.company_id,
               CASE WHEN n %% 10 < 6 THEN 'stock' WHEN n %% 10 < 9 THEN 'price' ELSE 'order' END,
               b.id, b.product_id, '4', '5', 'stock change',
               CASE WHEN n %% %(refused_every)s = 0 THEN 'refused' ELSE 'ok' END, '', 40, 200 + n %% 1500,
               1, at, 1, at
          FROM generate_series(1, %(rows)s) AS n
          CROSS JOIN LATERAL (SELECT (now() AT TIME ZONE 'UTC') - interval '90 days'
                                     + (interval '90 days') * n / %(rows)s AS at) AS t
          JOIN multichannel_channel c ON c.id = (%(channels)s::int[])[1 + n %% %(count)s]
          JOIN (SELECT channel_id, min(id) AS first_id FROM multichannel_product_binding GROUP BY channel_id) AS f
            ON f.channel_id = c.id
          JOIN multichannel_product_binding b ON b.id = f.first_id + n %% 2000
        """,
        {"rows": rows, "channels": channel_ids, "count": len(channel_ids), "refused_every": refused_every},
    )
    cr.commit()


def former_dashboard(env, channels):
    """The dashboard's figures as ``_compute_dashboard`` asked for them before: the latency
    statement and the orders of the day (both unchanged), and Odoo's grouped maximum of
    the accepted lines."""
    from odoo import fields

    since = env.cr.now()
    today = fields.Datetime.to_datetime(fields.Date.context_today(channels))
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
        [("multichannel_channel_id", "in", channels.ids), ("create_date", ">=", today)],
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


def own_sale_order(cr, template_id):
    """One of Odoo's own sale orders inserted (a copy of the template, no channel)."""
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'sale_order' "
        "AND column_name NOT IN ('id', 'name') AND column_name NOT LIKE 'multichannel%%'"
    )
    listed = ", ".join(f'"{name}"' for (name,) in cr.fetchall())
    return f"INSERT INTO sale_order ({listed}, name) SELECT {listed}, 'own' FROM sale_order WHERE id = {template_id}"


def measure(registry, args):
    from datetime import timedelta

    import odoo
    from odoo import Command, api, fields

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        warehouse = env["stock.warehouse"].search([], limit=1)
        products = env["product.product"].create(
            [{"name": f"Bench {i}", "default_code": f"LB{i}", "is_storable": True} for i in range(2000)]
        )
        # the fourth channel's pushes were all refused: no accepted push to find in its history
        channels = env["multichannel.channel"].create(
            [{"name": f"Bench {i}", "warehouse_ids": [Command.set(warehouse.ids)]} for i in range(4)]
        )
        for channel in channels:
            env["multichannel.product.binding"].create(
                [{"channel_id": channel.id, "product_id": p.id, "external_id": str(p.id)} for p in products]
            )
        template = env["sale.order"].create({"partner_id": env["res.partner"].create({"name": "Bench"}).id})
        cr.commit()
        started = time.perf_counter()
        fill_ledger(cr, channels[:3].ids, args.rows)
        fill_ledger(cr, channels[3:].ids, args.rows // 6, refused_every=1)
        fill_sale_orders(cr, template.id, channels[:3].ids, args.orders)
        cr.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('multichannel_ledger')), "
            "pg_size_pretty(pg_total_relation_size('sale_order'))"
        )
        ledger_size, orders_size = cr.fetchone()
        print(
            f"\nHistory benchmark: {args.rows:,} ledger lines over 90 days ({ledger_size} with its indexes), "
            f"{args.orders:,} channel sale orders over a year beside {args.orders:,} of Odoo's own ({orders_size}), "
            f"4 channels; filled in {time.perf_counter() - started:.0f} s"
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
        insert_own_order = own_sale_order(cr, template.id)
        Ledger = env["multichannel.ledger"]
        setups = {
            "before": (FORMER_INDEXES, CURRENT_INDEXES, former_dashboard),
            "now": (CURRENT_INDEXES, FORMER_INDEXES, current_dashboard),
        }
        steps = ("dashboard", "push", "clean-up", "own order")
        times = {(setup, step): [] for setup in setups for step in steps}
        answers = {}
        for setup in ("before", "now", "before", "now"):
            wanted, unwanted, dashboard = setups[setup]
            use_indexes(cr, wanted, unwanted)
            for _round in range(args.rounds):
                env.invalidate_all()
                started = time.perf_counter()
                channels._compute_counters()
                last_ok = dashboard(env, channels)
                times[(setup, "dashboard")].append(time.perf_counter() - started)
                answers[setup] = [(c.oversell_count, c.order_count, last_ok.get(c) or False) for c in channels]
                started = time.perf_counter()
                Ledger._insert_lines(channels[0], "stock", push_lines, 40)
                times[(setup, "push")].append(time.perf_counter() - started)
                cr.rollback()
                started = time.perf_counter()
                if setup == "now":
                    Ledger._clean_up()
                else:  # the clean-up's former statement, each channel
                    for channel in channels:
                        cr.execute(
                            "DELETE FROM multichannel_ledger WHERE channel_id = %s AND create_date < %s",
                            (channel.id, fields.Datetime.now() - timedelta(days=channel.ledger_retention_days)),
                        )
                times[(setup, "clean-up")].append(time.perf_counter() - started)
                cr.rollback()
                started = time.perf_counter()
                cr.execute(insert_own_order)
                times[(setup, "own order")].append(time.perf_counter() - started)
                cr.rollback()
        print(
            f"{args.rounds * 2} rounds each; the dashboard's answers the same both ways: "
            f"{answers['before'] == answers['now']} (oversold, orders, last accepted push: {answers['now']})"
        )
        print("| step | before | now | now / before |")
        print("|---|---|---|---|")
        for step, label in (
            ("dashboard", "the dashboard's figures, 4 channels"),
            ("push", "a push batch's 50 ledger lines"),
            ("clean-up", "the retention's clean-up, 4 channels (nothing past 90 days)"),
            ("own order", "one of Odoo's own sale orders inserted"),
        ):
            before = statistics.median(times[("before", step)]) * 1000
            now = statistics.median(times[("now", step)]) * 1000
            print(f"| {label} | {before:.2f} ms | {now:.2f} ms | {now / before:.3f}x |")


if __name__ == "__main__":
    options = harness.parse(__doc__, rows=2000000, orders=300000, rounds=20)
    harness.run(__file__, options, "stock_multichannel", measure)
