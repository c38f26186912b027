"""Reading the channel's offers: matched to products and listed, or kept for a human to match."""

from odoo import models
from odoo.exceptions import UserError

from ..lib.adapter import ChannelError, TransportError
from ..lib.messages import translated


class MultichannelChannel(models.Model):
    _inherit = "multichannel.channel"

    def _import_listings(self):
        """Match the channel's offers to products; list them; keep the rest for a human.

        Matching: a listing with that external id, then a product whose internal
        reference is the offer's SKU, then one whose barcode is the offer's barcode.
        """
        self.ensure_one()
        offers = self._call(self._get_adapter().fetch_offers)
        Binding = self.env["multichannel.product.binding"].with_context(active_test=False)
        Product = self.env["product.product"]
        Unmatched = self.env["multichannel.unmatched.offer"]
        listed = {
            b.external_id: b for b in Binding.search([("channel_id", "=", self.id), ("external_id", "!=", False)])
        }
        listed_products = set(Binding.search([("channel_id", "=", self.id)]).product_id.ids)
        company_domain = [("company_id", "in", (self.company_id.id, False)), ("type", "=", "consu")]
        counts = {"matched": 0, "created": 0, "unmatched": 0}
        for offer in offers:
            offer_values = self._listing_values(offer)
            if offer.external_id in listed:
                listed[offer.external_id].write(offer_values)
                counts["matched"] += 1
                continue
            product = offer.sku and Product.search([("default_code", "=", offer.sku)] + company_domain, limit=1)
            if not product and offer.barcode:
                product = Product.search([("barcode", "=", offer.barcode)] + company_domain, limit=1)
            if product and product.id not in listed_products:
                listed[offer.external_id] = Binding.create(
                    dict(offer_values, channel_id=self.id, product_id=product.id, external_id=offer.external_id)
                )
                listed_products.add(product.id)
                counts["created"] += 1
            else:
                Unmatched._remember(self, offer, product)
                counts["unmatched"] += 1
        Unmatched.search([("channel_id", "=", self.id), ("external_id", "in", list(listed))]).unlink()
        return counts

    def action_import_listings(self):
        self._check_operator_rights()
        self.ensure_one()
        try:
            counts = self._import_listings()
        except (ChannelError, TransportError) as error:
            raise UserError(
                self.env._(
                    "Reading the offers of %(name)s failed: %(error)s",
                    name=self.name,
                    error=translated(self.env, error),
                )
            ) from None
        return self._notify(
            self.env._(
                "%(created)s listings created, %(matched)s already listed, %(unmatched)s offers to match by hand.",
                **counts,
            )
        )

    def _listing_values(self, offer):
        """What a listing keeps of the channel's offer (connectors add their own)."""
        return {"external_sku": offer.sku or False, "external_parent_id": offer.parent_id or False}
