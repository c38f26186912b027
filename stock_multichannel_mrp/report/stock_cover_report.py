from odoo import models
from odoo.tools import SQL


class StockCoverReport(models.Model):
    _inherit = "multichannel.stock.cover.report"

    @property
    def _table_query(self) -> SQL:
        # a kit has no stock of its own: its sales and cover are its components' (a kit of
        # the row's company, or of every company: another company may stock it as it is)
        return SQL(
            """
            SELECT cover.* FROM (%(cover)s) cover
             WHERE NOT EXISTS (
                   SELECT 1
                     FROM mrp_bom bom
                     JOIN product_product pp ON pp.id = cover.product_id
                    WHERE bom.type = 'phantom' AND bom.active
                      AND (bom.company_id IS NULL OR bom.company_id = cover.company_id)
                      AND (bom.product_id = pp.id
                           OR (bom.product_id IS NULL AND bom.product_tmpl_id = pp.product_tmpl_id))
             )
            """,
            cover=super()._table_query,
        )
