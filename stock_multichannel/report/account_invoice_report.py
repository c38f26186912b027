from odoo import fields, models
from odoo.tools import SQL


class AccountInvoiceReport(models.Model):
    _inherit = "account.invoice.report"

    multichannel_channel_id = fields.Many2one("multichannel.channel", "Sales Channel", readonly=True)

    def _select(self) -> SQL:
        return SQL("%s, move.multichannel_channel_id AS multichannel_channel_id", super()._select())
