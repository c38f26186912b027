from odoo import api, models

from .multichannel_channel_dated_prices import rule_moments

# what moves the moment a rule takes effect or ends
RULE_DATES = {"date_start", "date_end"}


class ProductPricelistItem(models.Model):
    _inherit = "product.pricelist.item"

    @api.model_create_multi
    def create(self, vals_list):
        items = super().create(vals_list)
        items._multichannel_request_sync()
        self.env["multichannel.channel"]._wake_for_dated_prices(rule_moments(items))
        return items

    def write(self, vals):
        if "pricelist_id" in vals:
            self._multichannel_request_sync()  # the pricelist it leaves
        result = super().write(vals)
        self._multichannel_request_sync()
        if RULE_DATES.intersection(vals):
            self.env["multichannel.channel"]._wake_for_dated_prices(rule_moments(self))
        return result

    def unlink(self):
        self._multichannel_request_sync()
        return super().unlink()

    def _multichannel_request_sync(self):
        """Every listing priced by a pricelist these items touch, directly or as a base, at
        any depth (a channel's pricelist based on one based on the one changed)."""
        self.env["multichannel.sync.request"]._queue(
            "price", "pricelist change", pricelist_ids=self.pricelist_id._multichannel_with_dependants().ids
        )


class ProductPricelist(models.Model):
    _inherit = "product.pricelist"

    def write(self, vals):
        result = super().write(vals)
        if "currency_id" in vals:
            self.env["multichannel.sync.request"]._queue(
                "price", "pricelist change", pricelist_ids=self._multichannel_with_dependants().ids
            )
        return result

    def _multichannel_with_dependants(self):
        """These pricelists and every pricelist based on them, at any depth."""
        Item = self.env["product.pricelist.item"].sudo().with_context(active_test=False)
        found, new = self, self
        while new:
            new = Item.search([("base", "=", "pricelist"), ("base_pricelist_id", "in", new.ids)]).pricelist_id - found
            found |= new
        return found

    def _multichannel_costs_count(self):
        """Whether a price of these pricelists (or of those they are based on) follows the
        products' cost: the pricelists whose rules start from the cost, with every one based
        on them."""
        costed = self.env["product.pricelist.item"].sudo().search([("base", "=", "standard_price")]).pricelist_id
        return bool(costed and costed._multichannel_with_dependants() & self)
