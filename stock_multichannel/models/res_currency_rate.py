from odoo import api, fields, models

from .multichannel_channel_dated_prices import day_start


class ResCurrencyRate(models.Model):
    _inherit = "res.currency.rate"

    @api.model_create_multi
    def create(self, vals_list):
        rates = super().create(vals_list)
        rates._multichannel_request_sync()
        return rates

    def write(self, vals):
        if {"name", "rate", "currency_id", "company_id"}.intersection(vals):
            self._multichannel_request_sync()  # as they were
            result = super().write(vals)
            self._multichannel_request_sync()
            return result
        return super().write(vals)

    def unlink(self):
        self._multichannel_request_sync()
        return super().unlink()

    def _multichannel_request_sync(self, cause="currency rate"):
        """The prices these rates convert: now for the rates in effect, and a run of the
        dated prices on the day of the first one still to come."""
        today = fields.Date.today()
        in_effect = self.filtered(lambda rate: rate.name <= today)
        pricelists = in_effect._multichannel_pricelists()
        if pricelists:
            self.env["multichannel.sync.request"]._queue("price", cause, pricelist_ids=pricelists.ids)
        self.env["multichannel.channel"]._wake_for_dated_prices([day_start(rate.name) for rate in self - in_effect])

    def _multichannel_pricelists(self):
        """The channels' pricelists whose prices these rates' currencies convert: those in
        one of them and every pricelist based on those, and those in another currency than
        the products they price (their company's, or the main company's for products
        shared by all: Odoo's ``product.currency_id``) when that currency is one of them."""
        currencies = self.currency_id
        if not currencies:
            return self.env["product.pricelist"]
        channels = (
            self.env["multichannel.channel"]
            .sudo()
            .with_context(active_test=False)
            .search([("pricelist_id", "!=", False)])
        )
        converted = (
            self.env["product.pricelist"]
            .sudo()
            .with_context(active_test=False)
            .search([("currency_id", "in", currencies.ids)])
            ._multichannel_with_dependants()
        )
        main_currency = self.env["res.company"]._get_main_company().currency_id
        return (channels.pricelist_id & converted) | channels.filtered(
            lambda channel: (
                (channel.company_id.currency_id | main_currency) & currencies
                and channel.pricelist_id.currency_id not in currencies
            )
        ).pricelist_id
