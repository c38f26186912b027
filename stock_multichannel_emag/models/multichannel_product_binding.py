from odoo import api, fields, models

from ..adapter import EmagListingExtra, EmagVat, NewEmagOffer


class MultichannelProductBinding(models.Model):
    _inherit = "multichannel.product.binding"

    emag_create_offer = fields.Boolean(
        "Create on eMAG",
        copy=False,
        help="The offer does not exist on eMAG yet: the next push creates it (product_offer/save), "
        "attached to eMAG's catalogue by the part number key or the barcode.",
    )
    emag_part_number_key = fields.Char("eMAG PNK", help="eMAG's catalogue key of the product, to attach the offer.")

    @api.model_create_multi
    def create(self, vals_list):
        listings = super().create(vals_list)
        listings._emag_default_offer_id()
        return listings

    def write(self, vals):
        result = super().write(vals)
        if vals.get("emag_create_offer"):
            self._emag_default_offer_id()
        return result

    def _emag_default_offer_id(self):
        """A new offer needs an id chosen by the seller: the product's id by default."""
        for listing in self.filtered(lambda b: b.emag_create_offer and not b.external_id):
            listing.external_id = str(listing.product_id.id)

    @api.model
    def _emag_vat(self, channel, taxes):
        """eMAG's VAT of products, by product id, from their sales taxes (``taxes``: a
        :class:`ProductTax` by product id), each with eMAG's id of its rate on ``channel``;
        a product without any sales tax is left out (the channel's rate applies then)."""
        vat_ids = {rate: channel._emag_vat_id(rate) for rate in {tax.rate for tax in taxes.values() if tax}}
        return {
            product_id: EmagVat(rate=tax.rate, price_includes_tax=tax.price_includes_tax, vat_id=vat_ids[tax.rate])
            for product_id, tax in taxes.items()
            if tax
        }

    def _extras(self, kind):
        extras = super()._extras(kind)
        channels = self.channel_id
        for channel in channels.filtered(lambda c: c.channel_type == "emag"):
            # a push's batch is of one channel: no filtering then
            listings = self if len(channels) == 1 else self.filtered(lambda b, channel=channel: b.channel_id == channel)
            created = listings.filtered("emag_create_offer")
            # each product's VAT: for its net prices, sent with a price (its tax read by the
            # core) or a new offer only
            if kind == "price":
                taxes = {listing.product_id.id: extras[listing.id].tax for listing in listings}
            else:
                taxes = created._product_taxes()
            vat = self._emag_vat(channel, taxes)
            if created:
                # a new offer is created with its quantity and prices: one read for the batch
                quantities = channel._stock_targets(created)
                prices = channel._price_targets(created)
                regular_prices = channel._regular_prices(created)
            for listing in listings:
                extras[listing.id] = EmagListingExtra(
                    parent_id=extras[listing.id].parent_id,
                    tax=extras[listing.id].tax,
                    vat=vat.get(listing.product_id.id) if vat else None,
                    new_offer=NewEmagOffer(
                        quantity=quantities[listing.id],
                        price=prices[listing.id],
                        regular_price=regular_prices[listing.id],
                        name=listing.product_id.name or "",
                        part_number=listing.product_id.default_code or "",
                        part_number_key=listing.emag_part_number_key or "",
                        ean=listing.product_id.barcode or "",
                    )
                    if listing in created
                    else None,
                )
        return extras

    @api.model
    def _apply_push_results(self, kind, batch, results, regular_prices=None, sent_to=None):
        settled = super()._apply_push_results(kind, batch, results, regular_prices=regular_prices, sent_to=sent_to)
        # their offers exist now (a listing moved meanwhile is not settled: created where it is)
        settled.filtered("emag_create_offer").write({"emag_create_offer": False})
        return settled
