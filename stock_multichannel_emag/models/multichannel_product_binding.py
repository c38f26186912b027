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

    def _emag_vat_by_product(self):
        """Each product's own VAT for eMAG's net prices: its percent sales taxes in the
        channel's company, by product id; a product without any is left out (the
        channel's rate applies then)."""
        channel = self.channel_id
        company_domain = self.env["account.tax"]._check_company_domain(channel.company_id)
        vat, by_taxes = {}, {}
        for product in self.product_id.sudo():
            # the template's taxes (read for the whole batch at once, where the variant's
            # related field is computed product by product), looked at once per set of taxes
            taxes = product.product_tmpl_id.taxes_id
            if taxes not in by_taxes:
                percent = taxes.filtered_domain(company_domain).filtered(lambda tax: tax.amount_type == "percent")
                rate = sum(percent.mapped("amount"))
                by_taxes[taxes] = percent and EmagVat(
                    rate=rate,
                    price_includes_tax=any(percent.mapped("price_include")),
                    vat_id=channel._emag_vat_id(rate),
                )
            if by_taxes[taxes]:
                vat[product.id] = by_taxes[taxes]
        return vat

    def _extras(self, kind):
        extras = super()._extras(kind)
        for channel in self.channel_id.filtered(lambda c: c.channel_type == "emag"):
            listings = self.filtered(lambda b, channel=channel: b.channel_id == channel)
            created = listings.filtered("emag_create_offer")
            # each product's VAT: for its net prices, sent with a price or a new offer only
            needs_vat = listings if kind == "price" else created
            vat = needs_vat._emag_vat_by_product() if needs_vat else {}
            if created:
                # a new offer is created with its quantity and prices: one read for the batch
                quantities = channel._stock_targets(created)
                prices = channel._price_targets(created)
                regular_prices = channel._regular_prices(created)
            for listing in listings:
                extras[listing.id] = EmagListingExtra(
                    parent_id=extras[listing.id].parent_id,
                    vat=vat.get(listing.product_id.id),
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
    def _apply_push_results(self, kind, batch, results, regular_prices=None):
        settled = super()._apply_push_results(kind, batch, results, regular_prices=regular_prices)
        # their offers exist now (a listing moved meanwhile is not settled: created where it is)
        settled.filtered("emag_create_offer").write({"emag_create_offer": False})
        return settled
