from odoo import models
from odoo.tools import SQL


class StockCoverReport(models.Model):
    _inherit = "multichannel.stock.cover.report"

    @property
    def _table_query(self) -> SQL:
        # a kit has no stock of its own: its sales and cover are its components'
        return SQL(
            """
            SELECT cover.* FROM (%(cover)s) cover
             WHERE NOT EXISTS (
                   SELECT 1
                     FROM mrp_bom bom
                     JOIN product_product pp ON pp.id = cover.product_id
                    WHERE bom.type = 'phantom' AND bom.active
                      AND (bom.product_id = pp.id
                           OR (bom.product_id IS NULL AND bom.product_tmpl_id = pp.product_tmpl_id))
             )
            """,
            cover=super()._table_query,
        )
