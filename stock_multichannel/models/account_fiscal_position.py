from odoo import api, models


class AccountFiscalPosition(models.Model):
    _inherit = "account.fiscal.position"

    def unlink(self):
        # the channels' field is emptied by the database, the mappings deleted with it
        channels = self._multichannel_channels()
        result = super().unlink()
        self.env["multichannel.sync.request"]._queue_prices_again_on(channels, "tax change")
        return result

    def _multichannel_channels(self):
        return self.env["multichannel.channel"].sudo().search([("fiscal_position_id", "in", self.ids)])

    def _multichannel_resend_prices(self):
        """A channel's position maps its products' taxes: the same price in Odoo is another
        price on the channel once the mapping changes."""
        self.env["multichannel.sync.request"]._queue_prices_again_on(self._multichannel_channels(), "tax change")


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
