from odoo import fields, models


class SaleReport(models.Model):
    _inherit = "sale.report"

    multichannel_channel_id = fields.Many2one("multichannel.channel", "Sales Channel", readonly=True)

    def _select_additional_fields(self):
        fields_sql = super()._select_additional_fields()
        fields_sql["multichannel_channel_id"] = "s.multichannel_channel_id"
        return fields_sql

    def _group_by_sale(self):
        return super()._group_by_sale() + ",\n            s.multichannel_channel_id"
