"""Turning a stored channel order into a confirmed sale order: products, lines, taxes, totals; retry and skip."""

import logging
import time
import weakref
from contextlib import contextmanager
from datetime import timedelta

from markupsafe import Markup

from odoo import fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare, float_round

from ..const import ORDER_OPEN_STATES
from ..lib.adapter import ChannelError, TransportError
from ..lib.messages import translated
from ..lib.orders import OrderDataError, without_nul
from ..lib.transactions import CONCURRENT_ERRORS

_logger = logging.getLogger(__name__)

# order lines matched to products while orders are received (see _matching_once), by cursor
_MATCHED = weakref.WeakKeyDictionary()


class MultichannelOrder(models.Model):
    _inherit = "multichannel.order"

    def _process(self):
        """Turn stored orders into sale orders, each on its own: one bad order never stops the others.

        Whatever goes wrong with one order (its data, the channel's answer to the
        acknowledgement, the sale order) leaves it "To Fix" with a readable reason.
        """
        # their stock changes queued in one statement, not one per savepoint
        with self.env["multichannel.sync.request"]._holding_stock():
            for order in self:
                if not order._inserted_by_this_transaction():  # else no other transaction sees it
                    try:
                        with self.env.cr.savepoint():
                            order._lock()
                    except CONCURRENT_ERRORS:
                        _logger.info(
                            "%s: order %s is being handled by another worker", order.channel_id.name, order.name
                        )
                        continue
                    order.invalidate_recordset()
                if order.state not in ORDER_OPEN_STATES:
                    continue
                try:
                    with self.env.cr.savepoint():
                        order._process_one()
                except CONCURRENT_ERRORS:
                    _logger.info(
                        "%s: order %s met a concurrent update, retried later", order.channel_id.name, order.name
                    )
                except Exception as error:  # noqa: BLE001 - one order's fault must not stop the batch
                    _logger.warning(
                        "%s: order %s could not be imported", order.channel_id.name, order.name, exc_info=True
                    )
                    order.invalidate_recordset()
                    order._fail(
                        self.env._(
                            "The order could not be imported (%(type)s: %(error)s).",
                            type=type(error).__name__,
                            error=translated(self.env, error),
                        )
                    )

    def _is_history(self, data):
        """An order placed before the channel's orders were imported: the channel's past, shipped
        or settled long ago, which must not become a new sale nor take stock."""
        since = self.channel_id.order_import_since
        return bool(since and data["date"] and fields.Datetime.to_datetime(data["date"]) < since)

    def _process_one(self):
        try:
            data = self._normalized()
        except OrderDataError as error:
            self._fail(self.env._("The channel's order data is invalid: %s", translated(self.env, error)))
            return
        if self._is_history(data):
            self._close(
                "skipped",
                error=False,
                channel_status=data["status"],
                warning=self.env._(
                    "Placed on %(date)s, before orders were imported from this channel (%(since)s): not imported.",
                    date=data["date"],
                    since=self.channel_id.order_import_since,
                ),
            )
            return
        if data["status"] == "pending":
            self._hold(data)
            return
        if data["status"] in ("cancelled", "closed"):
            self._close(
                "skipped",
                error=False,
                channel_status=data["status"],
                warning=self.env._("Arrived already %s on the channel: not imported.", data["status"]),
            )
            return
        if not self._acknowledge():
            return
        try:
            data = self._normalized()  # the re-read after the acknowledgement may differ
        except OrderDataError as error:
            self._fail(
                self.env._(
                    "The channel's order data is invalid after acknowledging it: %s", translated(self.env, error)
                )
            )
            return
        if data["status"] != "open":
            self._process_one()
            return
        started = time.monotonic()
        try:
            with self.env.cr.savepoint():
                sale = self._create_sale_order(data)
        except (UserError, ValidationError) as error:
            self._fail(str(error.args[0] if error.args else error))
            return
        self._close(
            "done", sale_order_id=sale.id, error=False, channel_status=data["status"], attempts=self.attempts + 1
        )
        sale._multichannel_check_after_import(self, data)
        # refunded in part, or a cancellation asked, before it was imported (or told already
        # on the sale order of the order it replaces)
        self._tell_channel_news(data, known=[self._normalized_or_none(o.payload) for o in self.replaced_ids])
        self.env["multichannel.ledger"]._log_order(
            self,
            "order",
            "ok",
            self.env._("Imported as %s", sale.name),
            new_value=sale.name,
            duration_ms=int((time.monotonic() - started) * 1000),
        )

    def _fail(self, message):
        self.write({"state": "error", "error": message, "attempts": self.attempts + 1, "hold_attention": False})
        self.env["multichannel.ledger"]._log_order(self, "order", "refused", message)

    def _hold(self, data):
        """Hold an order not paid yet: its units count against stock until it is paid (then
        imported) or cancelled. Held for a reason the connector could not read, or for longer
        than its channel allows, it is listed for a human (Orders to Fix)."""
        reason = self._hold_reason(data)
        if reason and not self.hold_attention:
            self.message_post(body=reason)
        self.write(
            {
                "state": "pending",
                "error": reason or False,
                "hold_attention": bool(reason),
                "channel_status": data["status"],
            }
        )

    def _hold_reason(self, data):
        if data.get("unknown_status"):
            return self.env._(
                "Held: the channel shows this order in the status %(status)s, which its connector does not know (a "
                "plugin's, say). Its units are kept off every channel until the order is paid or cancelled: look at "
                "it on the channel.",
                status=repr(data["unknown_status"]),
            )
        days = self.channel_id.hold_warning_days
        since = self.order_date or self.create_date
        if days > 0 and since and since < fields.Datetime.now() - timedelta(days=days):
            return self.env._(
                "Held unpaid since %(since)s (UTC), more than %(days)s days: its units are kept off every channel. "
                "Cancel it on the channel if it will not be paid (Odoo follows), or Never Import it here.",
                since=fields.Datetime.to_string(since),
                days=days,
            )
        return ""

    def _acknowledge(self):
        """Acknowledge on channels that want it; the answer may be a fresher order."""
        if self.acknowledged:
            return True
        try:
            adapter = self.channel_id._get_adapter()
            if not adapter.acknowledges_orders:
                return True
            fresh = self.channel_id._call(adapter.acknowledge_order, self.external_id)
        except (TransportError, ChannelError) as error:
            self.write(
                {"error": self.env._("Could not acknowledge the order on the channel: %s", translated(self.env, error))}
            )
            return False
        values = {"acknowledged": True}
        if fresh:
            values["payload"] = without_nul(fresh)  # stored as the first read was: PostgreSQL refuses NUL
        self.write(values)
        return True

    def action_retry(self):
        self._check_can_import()
        for order in self:
            if order.state not in ORDER_OPEN_STATES:
                raise UserError(self.env._("Only orders not imported yet can be retried."))
        self.sudo()._process()
        return True

    def action_skip(self):
        """A human decides this order will never be imported: its units go back on sale on
        every channel, for good. A sales decision, as a retry is."""
        self._check_can_import()
        user = self.env.user
        for order in self.sudo().filtered(lambda o: o.state in ORDER_OPEN_STATES):
            order._close("skipped", warning=self.env._("Skipped by %s", user.name), skipped_by_user=True)
        return True

    def _find_product(self, line):
        """The product of an order line: listing external id, then listing SKU, then internal reference."""
        return self._find_products([line])[0]

    @contextmanager
    def _matching_once(self):
        """Within the block, the same lines of a channel are matched once: an order's lines
        are looked up when it is stored (the units it holds) and again for its sale order."""
        cr = self.env.cr
        if cr in _MATCHED:
            yield
            return
        _MATCHED[cr] = {}
        try:
            yield
        finally:
            del _MATCHED[cr]

    def _find_products(self, lines, channel=None):
        """The products of order lines (an empty recordset for a line that matches none), in
        a few queries for all of them: by listing external id, then listing SKU, then
        internal reference. On the order's channel, or ``channel``'s."""
        channel = channel or self.channel_id
        matched = _MATCHED.get(self.env.cr)
        if matched is None:
            return self._match_products(lines, channel)
        Product = self.env["product.product"].sudo()
        key = (channel.id, tuple((line.get("listing_external_id"), line.get("sku")) for line in lines))
        if key not in matched:
            matched[key] = [product.id for product in self._match_products(lines, channel)]
        return [Product.browse(product_id) for product_id in matched[key]]

    def _match_products(self, lines, channel):
        Product = self.env["product.product"].sudo()
        external_ids = {line["listing_external_id"] for line in lines if line.get("listing_external_id")}
        by_external_id, by_sku, by_code = {}, {}, {}
        Binding = self.env["multichannel.product.binding"].sudo()
        # the first listing in the usual order wins, as a search limited to one
        if external_ids:
            for listing in Binding.search_fetch(
                [("channel_id", "=", channel.id), ("external_id", "in", sorted(external_ids))],
                ["external_id", "product_id"],
            ):
                by_external_id.setdefault(listing.external_id, listing.product_id)
        # the SKU only for lines whose listing external id matched nothing
        skus = {
            line["sku"] for line in lines if line.get("sku") and not by_external_id.get(line.get("listing_external_id"))
        }
        if skus:
            for listing in Binding.search_fetch(
                [("channel_id", "=", channel.id), ("external_sku", "in", sorted(skus))],
                ["external_sku", "product_id"],
            ):
                by_sku.setdefault(listing.external_sku, listing.product_id)
        codes = skus - set(by_sku)
        if codes:
            for product in Product.search_fetch(
                [("default_code", "in", sorted(codes)), ("company_id", "in", (channel.company_id.id, False))],
                ["default_code"],
            ):
                by_code.setdefault(product.default_code, product)
        products = []
        for line in lines:
            external_id, sku = line.get("listing_external_id"), line.get("sku")
            product = (
                (external_id and by_external_id.get(external_id))
                or (sku and (by_sku.get(sku) or by_code.get(sku)))
                or Product
            )
            products.append(product)
        return products

    def _create_sale_order(self, data):
        channel = self.channel_id.sudo()
        currency = channel.pricelist_id.currency_id
        if data["currency"] != currency.name:
            raise UserError(
                self.env._(
                    "The order is in %(got)s but the channel's pricelist is in %(want)s.",
                    got=data["currency"],
                    want=currency.name,
                )
            )
        include_tax = channel.prices_include_tax if data["prices_include_tax"] is None else data["prices_include_tax"]
        problems = []
        partner, delivery = self._customer_partners(data, problems)
        # the customer's, as Odoo would give the sale order (OSS by country, say); else the channel's
        positions = (
            self.env["account.fiscal.position"]
            .sudo()
            .with_company(channel.company_id)
            ._get_fiscal_position(partner, delivery)
            if partner
            else self.env["account.fiscal.position"]
        )
        fiscal_position = positions or channel.fiscal_position_id
        taxes = LineTaxes(self, include_tax, fiscal_position, problems)
        line_commands = []
        for index, (line, product) in enumerate(zip(data["lines"], self._find_products(data["lines"]), strict=True), 1):
            if not product:
                problems.append(
                    self.env._(
                        "Line %(index)s (%(name)s): no listing with external ID %(id)s or SKU %(sku)s on %(channel)s.",
                        index=index,
                        name=line["name"] or "?",
                        id=line["listing_external_id"] or "-",
                        sku=line["sku"] or "-",
                        channel=channel.name,
                    )
                )
                continue
            line_commands.append(
                self._line_command(product, line["quantity"], line["unit_price"], line["tax_rate"], line["name"], taxes)
            )
        for shipping in data["shipping"]:
            line_commands.append(
                self._line_command(
                    channel.shipping_product_id,
                    1,
                    shipping["amount"],
                    shipping["tax_rate"],
                    shipping["name"] or channel.shipping_product_id.name,
                    taxes,
                )
            )
        for discount in data["discounts"]:
            line_commands.append(
                self._line_command(
                    channel.discount_product_id,
                    1,
                    -discount["amount"],
                    discount["tax_rate"],
                    discount["name"] or channel.discount_product_id.name,
                    taxes,
                )
            )
        if problems:
            raise UserError("\n".join(problems))
        sale = (
            self.env["sale.order"]
            .sudo()
            .with_company(channel.company_id)
            .create(
                {
                    "partner_id": partner.id,
                    "partner_invoice_id": partner.id,
                    "partner_shipping_id": delivery.id,
                    "company_id": channel.company_id.id,
                    "pricelist_id": channel.pricelist_id.id,
                    "fiscal_position_id": fiscal_position.id,
                    # delivered from where the channel sells: its first warehouse
                    **({"warehouse_id": channel.warehouse_ids[0].id} if channel.warehouse_ids else {}),
                    "team_id": channel.team_id.id,
                    "user_id": False,
                    # the channel's reference, saying the channel: "eMAG Romania 100001"
                    "client_order_ref": self.name,
                    "origin": self.name,
                    "date_order": data["date"] or fields.Datetime.now(),
                    "multichannel_channel_id": channel.id,
                    "multichannel_external_ref": self.external_id,
                    "multichannel_order_id": self.id,
                    "order_line": line_commands,
                }
            )
        )
        self._post_customer_note(sale, data)
        if channel.order_auto_confirm:
            sale.action_confirm()
        return sale

    def _post_customer_note(self, sale, data):
        """The customer's note and payment method, as plain text in the order's chatter.

        Never in the terms and conditions (the company's own, HTML): what a customer
        types is shown as text, so no markup, image or link of theirs is ever rendered.
        """
        text = "\n".join(
            filter(None, [data["payment_method"] and self.env._("Payment: %s", data["payment_method"]), data["note"]])
        )
        if text:
            # escaped line by line: not even a URL of theirs becomes a link
            body = Markup("<p>%s</p>") % Markup("<br/>").join(text.splitlines())
            # a note logged as message_post would, without looking for followers to notify
            sale._message_log(body=body)

    def _line_command(self, product, quantity, price, tax_rate, name, taxes):
        # the price the customer paid, whole: no discount of the pricelist's taken off it again
        # (Odoo shows a percentage rule as a discount when its Discounts setting is on)
        line_taxes, price = taxes.priced(product, tax_rate, price)
        values = {"product_id": product.id, "product_uom_qty": quantity, "price_unit": price, "discount": 0.0}
        if name:
            values["name"] = name if name != product.name else product.display_name
        values["tax_id"] = [fields.Command.set(line_taxes.ids)]
        return fields.Command.create(values)


class LineTaxes:
    """The sales taxes of one order's lines: the rate the channel charged, priced as the
    channel prices (tax included or not), in the taxes that apply to it in Odoo. A line
    whose rate the channel does not say (``None``: a shop charging no tax sells at prices
    that hold it) takes its product's own rate; a shipping, fee or discount line then the
    highest of the order's lines (an accessory follows the goods).

    The line's product's own taxes, mapped by the sale order's fiscal position, when they
    make that rate: a company with several taxes of one rate (goods and services,
    cash-basis VAT, another country's OSS VAT) gets the one its product says. Else the
    company's (or its parent's) sales tax of that rate in the country the position
    declares in (its foreign VAT's, else the company's: Odoo refuses an invoice mixing
    them), the position's own first, then by sequence. The company's taxes are searched
    once per order, not once per line.
    """

    def __init__(self, order, include_tax, fiscal_position, problems):
        self.order, self.include_tax, self.problems = order, include_tax, problems
        self.company = order.channel_id.company_id
        self.position = fiscal_position
        self.tax_country = (
            fiscal_position.country_id if fiscal_position.foreign_vat else self.company.account_fiscal_country_id
        )
        self.currency = order.channel_id.sudo().pricelist_id.currency_id
        self.price_digits = order.env["decimal.precision"].precision_get("Product Price")
        self._company_taxes = {}
        self.highest_rate = 0.0  # of the product lines so far

    def priced(self, product, rate, price):
        """(taxes, unit price) of one line, in the taxes of its rate priced as the channel
        prices; else in those priced the other way, the price turned so (a shop's prices
        with tax, where the company's taxes exclude it: no order kept out for it). A net
        price finer than Odoo keeps its prices (eMAG's 82.6364 for 99.99 with 21% VAT) would
        be rounded (82.64: 5 of them 499.97, where the customer paid 499.95): it goes as
        the price the customer paid, with a tax included in the price, when there is one."""
        mapped, rate = self._mapped(product, rate)
        if not rate:
            return self._find(mapped, rate, self.include_tax), price
        fine = float_compare(price, float_round(price, precision_digits=self.price_digits), precision_digits=6)
        ways = (True, False) if fine and not self.include_tax else (self.include_tax, not self.include_tax)
        for include in ways:
            taxes = self._find(mapped, rate, include)
            if taxes:
                if include == self.include_tax:
                    return taxes, price
                if include:  # a net price, with the tax added
                    return taxes, self.currency.round(price * (1 + rate / 100))
                return taxes, price / (1 + rate / 100)  # a price with tax, without it
        return self._find(mapped, rate, self.include_tax, required=True), price

    def _mapped(self, product, rate):
        """(the product's own taxes mapped by the position, the line's rate)."""
        own = product.sudo().taxes_id._filter_taxes_by_company(self.company)
        mapped = self.position.map_tax(own)  # no position: the product's own
        if rate is None:
            percent = mapped.flatten_taxes_hierarchy().filtered(lambda tax: tax.amount_type == "percent")
            rate = sum(percent.mapped("amount")) if own else self.highest_rate
        if own:
            self.highest_rate = max(self.highest_rate, rate)
        return mapped, rate

    def _find(self, mapped, rate, include, required=False):
        Tax = self.order.env["account.tax"].sudo()
        if mapped and self._make(mapped, rate, include):
            return mapped
        if not rate:
            return Tax
        found = self._company_taxes_priced(include).filtered(
            lambda tax: (
                float_compare(tax.amount, rate, precision_digits=4) == 0
                and (not self.tax_country or tax.country_id == self.tax_country)
            )
        )
        if not found:
            if required:
                env = self.order.env
                self.problems.append(
                    env._(
                        "No sales tax of %(rate)s%% (%(kind)s) in %(company)s: create one.",
                        rate=rate,
                        kind=env._("price included") if include else env._("price excluded"),
                        company=self.company.name,
                    )
                )
            return Tax
        # the position's own first, then of the product's tax group (the same VAT priced the
        # other way, not a retail tax of other accounts)
        mapped_to, groups = self.position.tax_ids.tax_dest_id, mapped.tax_group_id
        return found.sorted(lambda tax: (tax not in mapped_to, tax.tax_group_id not in groups, tax.sequence, tax.id))[
            :1
        ]

    @staticmethod
    def _make(taxes, rate, include):
        """Whether ``taxes`` charge ``rate`` percent, included in the price or not."""
        flat = taxes.flatten_taxes_hierarchy()
        return (
            all(tax.amount_type == "percent" and (tax.price_include == include or not rate) for tax in flat)
            and float_compare(sum(flat.mapped("amount")), rate or 0.0, precision_digits=4) == 0
        )

    def _company_taxes_priced(self, include):
        if include not in self._company_taxes:
            Tax = self.order.env["account.tax"].sudo().with_company(self.company)
            self._company_taxes[include] = Tax.search(
                [
                    *Tax._check_company_domain(self.company),
                    ("type_tax_use", "=", "sale"),
                    ("amount_type", "=", "percent"),
                    ("price_include", "=", include),
                ]
            )
        return self._company_taxes[include]
