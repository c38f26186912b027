from odoo import models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _action_done(self):
        result = super()._action_done()
        # whoever ships may not read the sale order (a warehouse user, another salesperson's order)
        orders = self.sudo().filtered(lambda p: p.location_dest_id.usage == "customer").sale_id
        shipped = orders.filtered("multichannel_order_id")._multichannel_shipped().multichannel_order_id
        # an order replaced by a new one (no channel id any more) sends nothing: the id is the new one's
        shipped.filtered("external_id")._queue_status("shipped")
        return result
