from odoo import fields, models
from odoo.tools import SQL

# Row ids combine product and company so that a row keeps its id while other rows come and go.
COMPANY_ID_SPAN = 65536


class StockCoverReport(models.Model):
    """Per product and company: how fast it sells, how long its stock lasts, when to reorder.

    Daily sales average what the company's confirmed sales of the last
    ``multichannel_cover_days`` days take out of stock, over every channel and direct
    sales alike, because they all draw on the same stock. Sales are read from their
    deliveries, so a kit counts as the components it ships and units are the product's.
    """

    _name = "multichannel.stock.cover.report"
    _description = "Stock Cover and Rotation"
    _auto = False
    _rec_name = "product_id"
    _order = "replenish_by, product_id"

    company_id = fields.Many2one("res.company", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    product_tmpl_id = fields.Many2one("product.template", "Product Template", readonly=True)
    categ_id = fields.Many2one("product.category", "Product Category", readonly=True)
    listing_count = fields.Integer("Channels", readonly=True, aggregator="max")
    on_hand_qty = fields.Float("On Hand", readonly=True, digits="Product Unit of Measure")
    free_qty = fields.Float("Free to Sell", readonly=True, digits="Product Unit of Measure")
    sales_days = fields.Integer("Days of Sales", readonly=True, aggregator="max")
    sold_qty = fields.Float("Sold", readonly=True, digits="Product Unit of Measure")
    daily_sales = fields.Float("Sold per Day", readonly=True, digits=(16, 2), help="Stock rotation velocity.")
    stock_turns = fields.Float(
        "Stock Turns per Year", readonly=True, digits=(16, 1), aggregator="avg", help="Yearly sales over stock on hand."
    )
    days_of_cover = fields.Float(
        "Days of Cover",
        readonly=True,
        digits=(16, 1),
        aggregator="min",
        help="How many days the free stock lasts at the current daily sales. Empty when nothing sold.",
    )
    lead_days = fields.Integer("Lead Time (days)", readonly=True, aggregator="max")
    replenish_by = fields.Date(
        readonly=True,
        aggregator="min",
        help="Order more before this date: the stock runs out once the lead time has passed.",
    )
    to_replenish = fields.Boolean("Replenish Now", readonly=True)

    @property
    def _table_query(self) -> SQL:
        return SQL(
            """
            WITH params AS (
                SELECT id AS company_id,
                       GREATEST(multichannel_cover_days, 1) AS sales_days,
                       GREATEST(multichannel_lead_days, 0) AS lead_days
                  FROM res_company
            ), sold AS (
                SELECT move.company_id, move.product_id, SUM(move.product_qty) AS qty
                  FROM stock_move move
                  JOIN sale_order_line line ON line.id = move.sale_line_id
                  JOIN sale_order so ON so.id = line.order_id
                  JOIN params ON params.company_id = move.company_id
                  JOIN stock_location destination ON destination.id = move.location_dest_id
                 WHERE so.state = 'sale' AND move.state != 'cancel' AND destination.usage = 'customer'
                   AND so.date_order >= (NOW() AT TIME ZONE 'UTC') - make_interval(days => params.sales_days)
                 GROUP BY move.company_id, move.product_id
            ), stock AS (
                SELECT quant.company_id, quant.product_id,
                       SUM(quant.quantity) AS on_hand,
                       SUM(quant.quantity - quant.reserved_quantity) AS free
                  FROM stock_quant quant
                  JOIN stock_location location ON location.id = quant.location_id
                 WHERE location.usage = 'internal'
                 GROUP BY quant.company_id, quant.product_id
            ), listed AS (
                SELECT company_id, product_id, COUNT(*) AS listings
                  FROM multichannel_product_binding
                 WHERE active
                 GROUP BY company_id, product_id
            ), vendor_lead AS (
                SELECT product_tmpl_id, company_id, MIN(delay) AS delay
                  FROM product_supplierinfo
                 GROUP BY product_tmpl_id, company_id
            ), products AS (
                SELECT company_id, product_id FROM listed
                 UNION
                SELECT company_id, product_id FROM sold
            ), measured AS (
                SELECT products.company_id, products.product_id, pt.id AS product_tmpl_id, pt.categ_id,
                       COALESCE(listed.listings, 0) AS listing_count,
                       COALESCE(stock.on_hand, 0) AS on_hand_qty,
                       COALESCE(stock.free, 0) AS free_qty,
                       params.sales_days,
                       COALESCE(sold.qty, 0) AS sold_qty,
                       COALESCE(sold.qty, 0) / params.sales_days AS daily_sales,
                       COALESCE(
                           (SELECT delay FROM vendor_lead
                             WHERE vendor_lead.product_tmpl_id = pt.id
                               AND (vendor_lead.company_id = products.company_id OR vendor_lead.company_id IS NULL)
                             ORDER BY vendor_lead.company_id NULLS LAST LIMIT 1),
                           params.lead_days
                       ) AS lead_days
                  FROM products
                  JOIN params ON params.company_id = products.company_id
                  JOIN product_product pp ON pp.id = products.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                  LEFT JOIN listed ON listed.company_id = products.company_id
                                  AND listed.product_id = products.product_id
                  LEFT JOIN stock ON stock.company_id = products.company_id AND stock.product_id = products.product_id
                  LEFT JOIN sold ON sold.company_id = products.company_id AND sold.product_id = products.product_id
                 WHERE pt.is_storable
            ), covered AS (
                SELECT measured.*,
                       GREATEST(free_qty, 0) / NULLIF(daily_sales, 0) AS days_of_cover,
                       daily_sales * 365 / NULLIF(on_hand_qty, 0) AS stock_turns
                  FROM measured
            )
            SELECT product_id::bigint * %(company_id_span)s + company_id AS id,
                   company_id, product_id, product_tmpl_id, categ_id, listing_count,
                   on_hand_qty, free_qty, sales_days, sold_qty, daily_sales, stock_turns,
                   days_of_cover, lead_days,
                   CURRENT_DATE + FLOOR(days_of_cover)::integer - lead_days AS replenish_by,
                   COALESCE(CURRENT_DATE + FLOOR(days_of_cover)::integer - lead_days <= CURRENT_DATE, FALSE)
                       AS to_replenish
              FROM covered
            """,
            company_id_span=COMPANY_ID_SPAN,
        )
