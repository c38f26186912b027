from odoo import models

# what a channel sale order's delivery move not holding its units takes from availability
WATCHED = {"state", "product_uom_qty", "product_uom", "location_id"}


class StockMove(models.Model):
    _inherit = "stock.move"

    def write(self, vals):
        result = super().write(vals)
        if WATCHED.intersection(vals):
            # its demand edited, or cancelled, while it holds nothing: no quant is written
            # read as the system: whoever moves stock may not read sale orders
            channel_moves = self.sudo().filtered(lambda move: move.sale_line_id.order_id.multichannel_channel_id)
            if channel_moves:
                self.env["multichannel.sync.request"]._queue_stock_at_commit(channel_moves.product_id.ids)
        return result
