from odoo import api, models

from .multichannel_channel_dated_prices import rule_moments

# what moves the moment a rule takes effect or ends
RULE_DATES = {"date_start", "date_end"}
# what takes a rule away from the prices it gave: those are queued before the write too
RULE_SCOPE = {"pricelist_id", "product_id", "product_tmpl_id", "categ_id", "applied_on"}


class ProductPricelistItem(models.Model):
    _inherit = "product.pricelist.item"

    @api.model_create_multi
    def create(self, vals_list):
        items = super().create(vals_list)
        items._multichannel_request_sync()
        self.env["multichannel.channel"]._wake_for_dated_prices(rule_moments(items))
        return items

    def write(self, vals):
        if RULE_SCOPE.intersection(vals):
            self._multichannel_request_sync()  # the prices it leaves
        result = super().write(vals)
        self._multichannel_request_sync()
        if RULE_DATES.intersection(vals):
            self.env["multichannel.channel"]._wake_for_dated_prices(rule_moments(self))
        return result

    def unlink(self):
        self._multichannel_request_sync()
        return super().unlink()

    def _multichannel_request_sync(self, cause="pricelist change"):
        """The listings whose price these items give, in a channel's pricelist or one it is
        based on at any depth: a rule for a product or a variant gives only theirs (Odoo
        matches a rule by its product, whatever else), any other every product's."""
        channels = self.env["multichannel.channel"].sudo().with_context(active_test=False)
        sold = channels.search([("pricelist_id", "!=", False)]).pricelist_id
        reached = sold._multichannel_with_bases()
        items = self.filtered(lambda item: item.pricelist_id in reached)
        by_product = items.filtered(lambda item: item.product_id or item.product_tmpl_id)
        products = (
            by_product.product_id
            | by_product.filtered(lambda item: not item.product_id)
            .product_tmpl_id.with_context(active_test=False)
            .product_variant_ids
        )
        # apart: a match on the products or the pricelists together reads every listing
        Request = self.env["multichannel.sync.request"]
        Request._queue("price", cause, product_ids=products.ids)
        Request._queue(
            "price", cause, pricelist_ids=(items - by_product).pricelist_id._multichannel_with_dependants().ids
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
        return self._multichannel_following("base_pricelist_id", "pricelist_id")

    def _multichannel_with_bases(self):
        """These pricelists and every pricelist their rules are based on, at any depth."""
        return self._multichannel_following("pricelist_id", "base_pricelist_id")

    def _multichannel_following(self, from_field, to_field):
        """These pricelists and those the rules based on another pricelist lead to from them,
        from the rules' ``from_field`` to their ``to_field``, at any depth."""
        Item = self.env["product.pricelist.item"].sudo().with_context(active_test=False)
        found, new = self, self
        while new:
            new = Item.search([("base", "=", "pricelist"), (from_field, "in", new.ids)]).mapped(to_field) - found
            found |= new
        return found

    def _multichannel_costs_count(self):
        """Whether a price of these pricelists (or of those they are based on) follows the
        products' cost: the pricelists whose rules start from the cost, with every one based
        on them."""
        costed = self.env["product.pricelist.item"].sudo().search([("base", "=", "standard_price")]).pricelist_id
        return bool(costed and costed._multichannel_with_dependants() & self)
