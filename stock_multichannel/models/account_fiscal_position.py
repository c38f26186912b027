from odoo import api, models


class AccountFiscalPosition(models.Model):
    _inherit = "account.fiscal.position"

    def write(self, vals):
        result = super().write(vals)
        if "tax_ids" in vals:
            self._multichannel_resend_prices()
        return result

    def _multichannel_resend_prices(self):
        """A channel's position maps its products' taxes: the same price in Odoo is another
        price on the channel once the mapping changes."""
        channels = self.env["multichannel.channel"].sudo().search([("fiscal_position_id", "in", self.ids)])
        if channels:
            self.env["multichannel.sync.request"]._queue_prices_again_on(channels, "tax change")


class AccountFiscalPositionTax(models.Model):
    _inherit = "account.fiscal.position.tax"

    @api.model_create_multi
    def create(self, vals_list):
        mappings = super().create(vals_list)
        mappings.position_id._multichannel_resend_prices()
        return mappings

    def write(self, vals):
        positions = self.position_id
        result = super().write(vals)
        (positions | self.position_id)._multichannel_resend_prices()
        return result

    def unlink(self):
        positions = self.position_id
        result = super().unlink()
        positions._multichannel_resend_prices()
        return result
