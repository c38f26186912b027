"""WooCommerce benchmark: products pushed and orders imported per second against the simulator.

    python3 bench/woo_bench.py [--products 2000] [--orders 200]

Creates a throw-away database with the addons, then measures in one run:
- the simulator's own cost: raw batch updates of 100 products and order pages, no Odoo;
- a full stock push of N listings through the Odoo engine (batches of 100);
- importing M processing orders (poll, sale order created and confirmed).
Prints the figures and the simulator's share of each.
"""

import time

import harness


def measure(registry, args):
    import requests

    import odoo
    from odoo import Command, api
    from odoo.addons.stock_multichannel_shop.simulator.woo_simulator import WooSimulator

    sim = WooSimulator("ck_bench", "cs_bench").start()
    session, auth = requests.Session(), ("ck_bench", "cs_bench")
    ids = [sim.add_product(f"RAW{i}") for i in range(100)]
    sim.https = True  # the raw baseline authenticates as a client over https would (Basic)
    started = time.perf_counter()
    for _ in range(30):
        session.post(
            f"{sim.url}/wp-json/wc/v3/products/batch",
            auth=auth,
            timeout=30,
            json={"update": [{"id": i, "manage_stock": True, "stock_quantity": 3} for i in ids]},
        )
    raw_product = (time.perf_counter() - started) / 3000
    sim.reset()
    sim.https = False  # Odoo's client talks plain http to the simulator: OAuth 1.0a signed

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        euro = env.ref("base.EUR")
        euro.active = True
        warehouse = env["stock.warehouse"].search([], limit=1)
        tax = env["account.tax"].create(
            {"name": "VAT 19% bench", "amount": 19, "type_tax_use": "sale", "price_include_override": "tax_excluded"}
        )
        channel = env["multichannel.channel"].create(
            {
                "name": "Shop bench",
                "channel_type": "woocommerce",
                "woo_url": sim.url,
                "woo_key": "ck_bench",
                "woo_secret": "cs_bench",
                "retry_delay": 0.1,
                "stock_schedule": "off",
                "order_schedule": "off",
                "pricelist_id": env["product.pricelist"].create({"name": "EUR", "currency_id": euro.id}).id,
            }
        )
        products = env["product.product"].create(
            [
                {
                    "name": f"Bench {i}",
                    "default_code": f"W{i}",
                    "is_storable": True,
                    "list_price": 10 + i % 40,
                    "taxes_id": [Command.set(tax.ids)],
                }
                for i in range(args.products)
            ]
        )
        shop_ids = []
        for index, product in enumerate(products):
            env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 500 + index % 9)
            shop_ids.append(sim.add_product(product.default_code))
        env["multichannel.product.binding"].create(
            [
                {"channel_id": channel.id, "product_id": p.id, "external_id": str(i)}
                for p, i in zip(products, shop_ids, strict=True)
            ]
        )
        cr.commit()
        channel_id = channel.id

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        started = time.perf_counter()
        env["multichannel.channel"].browse(channel_id)._push("stock", auto_commit=True)
        push_rate = args.products / (time.perf_counter() - started)
    batches = len(sim.requests_to("POST", "products/batch"))

    for index in range(args.orders):
        sim.place_order([(shop_ids[index % len(shop_ids)], 0, 1, 10.0 + index % 40)])
    sim.https = True
    started = time.perf_counter()
    session.get(f"{sim.url}/wp-json/wc/v3/orders", auth=auth, timeout=30, params={"per_page": 100})
    raw_page = time.perf_counter() - started
    sim.https = False
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        started = time.perf_counter()
        env["multichannel.channel"].browse(channel_id)._import_orders(auto_commit=True)
        elapsed = time.perf_counter() - started
        imported = env["sale.order"].search_count([("multichannel_channel_id", "=", channel_id)])
    sim.stop()

    pages = -(-args.orders // 100)
    print(f"\nWooCommerce benchmark: {args.products} listings, {args.orders} orders")
    print(
        f"  simulator alone      {1 / raw_product:10.0f} products/s over raw HTTP (100 per batch); "
        f"{1000 * raw_page:.1f} ms per page of 100 orders"
    )
    print(
        f"  stock push           {push_rate:10.0f} products/s ({batches} batch calls); the simulator's share "
        f"{100 * push_rate * raw_product:.1f}%"
    )
    print(
        f"  order import         {imported / elapsed:10.1f} orders/s ({imported} orders, {pages} pages); the "
        f"simulator's share {100 * pages * raw_page / elapsed:.1f}%"
    )


if __name__ == "__main__":
    harness.run(__file__, harness.parse(__doc__, products=2000, orders=200), "stock_multichannel_shop", measure)
