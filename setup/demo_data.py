"""The merchant's story as demo data: run inside Odoo's Python by setup/demo.py.

    python demo_data.py DATABASE ADDONS_PATH EMAG_RO_URL EMAG_BG_URL SHOP_URL

Idempotent: the first run creates the company's products, taxes, pricelists and the
three channels; every run points the channels at the simulators just started,
puts the offers on the (empty, in-memory) simulators and asks for a full push.
"""

import sys

import requests

import odoo
from odoo import Command, api

PRODUCTS = [  # name, internal reference, price (RON), units in stock
    ("Office chair Ergo", "CHAIR-ERGO", 899.0, 100),
    ("Desk lamp black", "LAMP-BLK", 129.0, 40),
    ("Desk lamp white", "LAMP-WHT", 129.0, 25),
    ("Standing desk 140", "DESK-140", 1899.0, 12),
    ("Monitor arm", "ARM-1", 249.0, 30),
    ("Home office set", "SET-HOME", 1399.0, 0),  # a kit: no stock of its own
]
KITS = {"SET-HOME": [("CHAIR-ERGO", 4), ("LAMP-BLK", 1)]}  # four chairs and a lamp per set
CREDENTIALS = {
    "emag_ro": ("demo-ro", "demo-ro-pw"),
    "emag_bg": ("demo-bg", "demo-bg-pw"),
    "shop": ("ck_demo", "cs_demo"),
}


def ref_or_create(env, xmlid, model, values):
    record = env.ref(f"__demo__.{xmlid}", raise_if_not_found=False)
    if record:
        return record
    record = env[model].create(values)
    env["ir.model.data"].create({"module": "__demo__", "name": xmlid, "model": model, "res_id": record.id})
    return record


def tax(env, rate):
    """A sales tax of ``rate`` percent in its own tax group, so that totals say "VAT 21%"
    like the lines (the chart's default group would print its own rate, "Tax 15%")."""
    group = ref_or_create(env, f"tax_group_{rate}", "account.tax.group", {"name": f"VAT {rate}%"})
    record = ref_or_create(
        env,
        f"tax_{rate}",
        "account.tax",
        {
            "name": f"VAT {rate}% (demo)",
            "amount": rate,
            "amount_type": "percent",
            "type_tax_use": "sale",
            "price_include_override": "tax_excluded",
            "tax_group_id": group.id,
        },
    )
    if record.tax_group_id != group:  # a database made before the groups: set them right
        record.tax_group_id = group
    return record


def currency(env, code, rate_per_ron):
    record = env.ref(f"base.{code}")
    record.active = True
    if code != "RON" and not record.rate_ids:
        env["res.currency.rate"].create({"currency_id": record.id, "rate": 1 / rate_per_ron})
    return record


def setup_company(env):
    company = env.company
    ron = currency(env, "RON", 1)
    if company.currency_id != ron and not env["account.move"].search_count([]):
        company.currency_id = ron
    company.name = "Birou Bun SRL"
    company.country_id = env.ref("base.ro")
    return company


def channel(env, xmlid, values):
    return ref_or_create(env, xmlid, "multichannel.channel", values)


def main(database, addons_path, emag_ro, emag_bg, shop, odoo_url=None):
    odoo.tools.config.parse_config(["-d", database, f"--addons-path={addons_path}", "--log-level=warn"])
    seed(odoo.modules.registry.Registry(database), emag_ro, emag_bg, shop, odoo_url)


def make_kits(env, by_code):
    """Kits need Manufacturing (stock_multichannel_mrp brings it); without it they stay plain products."""
    if "mrp.bom" not in env:
        return
    for code, parts in KITS.items():
        kit = by_code[code]
        if not env["mrp.bom"].search([("product_id", "=", kit.id), ("type", "=", "phantom")]):
            env["mrp.bom"].create(
                {
                    "product_tmpl_id": kit.product_tmpl_id.id,
                    "product_id": kit.id,
                    "type": "phantom",
                    "bom_line_ids": [Command.create({"product_id": by_code[c].id, "product_qty": q}) for c, q in parts],
                }
            )


def seed(registry, emag_ro, emag_bg, shop, odoo_url=None):
    """The story's company, products and channels. With ``odoo_url`` (where Odoo will
    answer), the shop's order webhooks are registered to it."""
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        setup_company(env)
        taxes = {rate: tax(env, rate) for rate in (19, 20, 21)}
        warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        products = []
        for name, code, price, quantity in PRODUCTS:
            product = ref_or_create(
                env,
                f"product_{code}",
                "product.product",
                {
                    "name": name,
                    "default_code": code,
                    "list_price": price,
                    "is_storable": True,
                    "taxes_id": [Command.set(taxes[21].ids)],
                },
            )
            if quantity and not product.qty_available:
                env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, quantity)
            products.append(product)
        make_kits(env, {product.default_code: product for product in products})
        pricelists = {
            code: ref_or_create(
                env,
                f"pricelist_{code}",
                "product.pricelist",
                {"name": f"Channels {code}", "currency_id": currency(env, code, rate).id},
            )
            for code, rate in (("RON", 1), ("BGN", 2.54), ("EUR", 4.97))
        }
        common = {
            "warehouse_ids": [Command.set(warehouse.ids)],
            "stock_schedule": "realtime",
            "price_schedule": "realtime",
            "order_schedule": "realtime",
            "retry_delay": 1.0,
            "customer_country_id": env.ref("base.ro").id,
            "user_id": env.ref("base.user_admin").id,
        }
        ro = channel(
            env,
            "channel_emag_ro",
            dict(
                common, name="eMAG Romania", channel_type="emag", emag_platform="ro", pricelist_id=pricelists["RON"].id
            ),
        )
        # a Romanian company's sales to Bulgarians carry Bulgarian VAT (OSS): its 21% products
        # are sold at 20% there, the rate eMAG Bulgaria has
        oss_bg = ref_or_create(
            env,
            "fiscal_position_oss_bg",
            "account.fiscal.position",
            {
                "name": "eMAG Bulgaria (OSS)",
                "country_id": env.ref("base.bg").id,
                "tax_ids": [Command.create({"tax_src_id": taxes[21].id, "tax_dest_id": taxes[20].id})],
            },
        )
        bg = channel(
            env,
            "channel_emag_bg",
            dict(
                common,
                name="eMAG Bulgaria",
                channel_type="emag",
                emag_platform="bg",
                pricelist_id=pricelists["BGN"].id,
                fiscal_position_id=oss_bg.id,
            ),
        )
        bg.fiscal_position_id = bg.fiscal_position_id or oss_bg  # a demo database made before it
        web = channel(
            env,
            "channel_shop",
            dict(
                common, name="Own web shop", channel_type="woocommerce", woo_url=shop, pricelist_id=pricelists["EUR"].id
            ),
        )
        ro.write(
            {
                "emag_base_url": emag_ro,
                "emag_username": CREDENTIALS["emag_ro"][0],
                "emag_password": CREDENTIALS["emag_ro"][1],
            }
        )
        bg.write(
            {
                "emag_base_url": emag_bg,
                "emag_username": CREDENTIALS["emag_bg"][0],
                "emag_password": CREDENTIALS["emag_bg"][1],
                "emag_vat_rate": 20.0,
            }
        )
        web.write({"woo_url": shop, "woo_key": CREDENTIALS["shop"][0], "woo_secret": CREDENTIALS["shop"][1]})
        Binding = env["multichannel.product.binding"]
        for index, product in enumerate(products, 1):
            for emag, base in ((ro, emag_ro), (bg, emag_bg)):
                requests.post(
                    f"{base.rsplit('/api-3', 1)[0]}/_sim/offers",
                    timeout=10,
                    json={
                        "offer_id": index,
                        "part_number": product.default_code,
                        "name": product.name,
                        "sale_price": product.list_price,
                        "min_sale_price": 1,
                        "max_sale_price": 100000,
                    },
                )
                if not Binding.search([("channel_id", "=", emag.id), ("product_id", "=", product.id)]):
                    Binding.create({"channel_id": emag.id, "product_id": product.id, "external_id": str(index)})
            shop_id = requests.post(f"{shop}/_sim/products", timeout=10, json={"sku": product.default_code}).json()[
                "id"
            ]
            listing = Binding.search([("channel_id", "=", web.id), ("product_id", "=", product.id)])
            if listing:
                listing.external_id = str(shop_id)
            else:
                Binding.create({"channel_id": web.id, "product_id": product.id, "external_id": str(shop_id)})
        for each in (ro, bg, web):
            each.order_watermark = False
            each._reconcile()
        if odoo_url:
            env["ir.config_parameter"].set_param("web.base.url", odoo_url)
            env["ir.config_parameter"].set_param("web.base.url.freeze", True)
            web.action_register_webhooks()
            # eMAG's seller-settings callbacks: each simulator calls its channel's URL on a
            # new order, a cancellation and a return, and Odoo reads that order at once
            for emag, base in ((ro, emag_ro), (bg, emag_bg)):
                emag._emag_ensure_callback_token()
                requests.post(
                    f"{base.rsplit('/api-3', 1)[0]}/_sim/callbacks",
                    timeout=10,
                    json=dict.fromkeys(("order", "cancellation", "return"), emag.emag_callback_url),
                )
        cr.commit()
        print(f"[demo] {len(products)} products listed on {ro.name}, {bg.name} and {web.name}; pushed.", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:7])
