from odoo import models


class StockCoverReport(models.Model):
    _inherit = "multichannel.stock.cover.report"

    @property
    def _table_query(self):
        # a kit has no stock of its own: its sales and cover are its components'
        return f"""
            SELECT cover.* FROM ({super()._table_query}) cover
             WHERE NOT EXISTS (
                   SELECT 1
                     FROM mrp_bom bom
                     JOIN product_product pp ON pp.id = cover.product_id
                    WHERE bom.type = 'phantom' AND bom.active
                      AND (bom.product_id = pp.id
                           OR (bom.product_id IS NULL AND bom.product_tmpl_id = pp.product_tmpl_id))
             )
        """
