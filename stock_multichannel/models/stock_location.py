from odoo import models
from odoo.tools import SQL


class StockLocation(models.Model):
    _inherit = "stock.location"

    def write(self, vals):
        result = super().write(vals)
        if "location_id" in vals:
            # under another parent, a location takes its stock into a channel's sources or out
            # of them, and no quant is written (Odoo rewrites the locations' parent_path only)
            locations = self.env["stock.location"].sudo()._search([("id", "child_of", self.ids)])
            self.env["stock.quant"].flush_model(["product_id", "location_id"])
            rows = self.env.execute_query(
                SQL("SELECT DISTINCT product_id FROM stock_quant WHERE location_id IN %s", locations.subselect())
            )
            products = [product_id for (product_id,) in rows]
            self.env["multichannel.sync.request"]._queue_stock_at_commit(products)
        return result
