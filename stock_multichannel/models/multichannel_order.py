import json
import logging
import time
from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import float_compare
from odoo.tools.sql import escape_psql

from ..lib.adapter import ChannelError, TransportError
from ..lib.orders import OrderDataError, content_difference, normalize_order, order_summary, without_nul
from ..lib.transactions import CONCURRENT_ERRORS

_logger = logging.getLogger(__name__)

STATES = [
    ("received", "Received"),
    ("pending", "Held (not payable yet)"),
    ("error", "To Fix"),
    ("done", "Imported"),
    ("skipped", "Not Imported"),
    ("cancelled", "Cancelled by Channel"),
]
OPEN_STATES = ("received", "pending", "error")
# what a human must look at: an import that failed, or an imported order the channel sent again different
TO_FIX_DOMAIN = ["|", ("state", "=", "error"), ("content_changed", "=", True)]
STATUSES = [("shipped", "Shipped"), ("cancelled", "Cancelled")]


def _quantity(value):
    return f"{value:g}" if isinstance(value, float) else "?"


class MultichannelOrder(models.Model):
    """An order as received from a channel (staging), and its sale order once imported."""

    _name = "multichannel.order"
    _description = "Channel Order"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _mail_post_access = "read"  # users note things on an order they may not edit

    name = fields.Char("Reference", required=True, readonly=True)
    channel_id = fields.Many2one("multichannel.channel", required=True, ondelete="restrict", index=True, readonly=True)
    company_id = fields.Many2one(related="channel_id.company_id", store=True, index=True)
    external_id = fields.Char("External ID", readonly=True, index=True)
    channel_status = fields.Char(readonly=True, help="The order's status on the channel, as last read.")
    payload = fields.Json(readonly=True, help="The order as the connector handed it over.")
    payload_text = fields.Text("Payload (JSON)", compute="_compute_payload_text")
    state = fields.Selection(STATES, default="received", required=True, readonly=True, index=True, tracking=True)
    error = fields.Text(readonly=True)
    warning = fields.Text(readonly=True, help="Imported, but something needs a look (total, cancellation).")
    attempts = fields.Integer(readonly=True)
    acknowledged = fields.Boolean(readonly=True)
    skipped_by_user = fields.Boolean(readonly=True, copy=False)
    pending_quantities = fields.Json(readonly=True, help="{product id: quantity} while not reserved in Odoo.")
    sale_order_id = fields.Many2one("sale.order", readonly=True, index=True, ondelete="set null")
    oversold = fields.Boolean(related="sale_order_id.multichannel_oversold")
    status_to_send = fields.Selection(STATUSES, readonly=True, copy=False)
    status_sent = fields.Selection(STATUSES, readonly=True, copy=False)
    status_pending = fields.Boolean(compute="_compute_status_pending", store=True, index=True)
    status_error = fields.Text(readonly=True, copy=False)
    status_sent_at = fields.Datetime(readonly=True, copy=False)
    content_changed = fields.Boolean(
        "Changed on the Channel",
        readonly=True,
        copy=False,
        index=True,
        help="The channel sent this order again with other products, quantities, customer or date than "
        "the one already imported: kept aside for a human, the sale order untouched.",
    )
    changed_payload = fields.Json(readonly=True, copy=False, help="The different order the channel sent.")
    changed_payload_text = fields.Text("Different Order Received (JSON)", compute="_compute_payload_text")

    # what the order says, read from the payload for people (stored: searchable, sortable)
    order_date = fields.Datetime("Ordered On", compute="_compute_summary", store=True, readonly=True)
    customer_name = fields.Char("Customer", compute="_compute_summary", store=True, readonly=True)
    customer_email = fields.Char("Customer E-mail", compute="_compute_summary", store=True, readonly=True)
    currency_id = fields.Many2one("res.currency", compute="_compute_summary", store=True, readonly=True)
    amount_total = fields.Monetary(
        "Total", compute="_compute_summary", store=True, readonly=True, help="The order's total as the channel sent it."
    )
    product_summary = fields.Char("Products", compute="_compute_summary", store=True, readonly=True)
    line_summary = fields.Text("Lines", compute="_compute_line_summary")

    _sql_constraints = [
        ("external_uniq", "unique(channel_id, external_id)", "This channel order is already stored."),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        self._check_not_user_written()
        return super().create(vals_list)

    def write(self, vals):
        if set(vals) - {"message_main_attachment_id"}:
            self._check_not_user_written()
        return super().write(vals)

    def _check_not_user_written(self):
        """Channel orders are what the channel sent and what the import made of it.

        Only the engine (as superuser) writes them: a user rewriting a payload and
        retrying would create and confirm any sale order they like.
        """
        if not self.env.su:
            raise AccessError(
                self.env._("Channel orders are written by the import only; use the buttons to retry or skip one.")
            )

    def _check_can_import(self):
        """Retrying an import creates and confirms sale orders: only for who may do so."""
        self.check_access("read")
        if not self.env.su:
            self.env["sale.order"].check_access("create")
            self.env["sale.order"].check_access("write")

    def _check_can_handle(self):
        if not self.env.su and not self.env.user.has_group("stock_multichannel.group_multichannel_user"):
            raise AccessError(self.env._("Only Multichannel users handle channel orders."))
        self.check_access("read")

    @api.depends("payload", "changed_payload")
    def _compute_payload_text(self):
        for order in self:
            order.payload_text = json.dumps(order.payload, indent=2, ensure_ascii=False, default=str)
            order.changed_payload_text = order.changed_payload and json.dumps(
                order.changed_payload, indent=2, ensure_ascii=False, default=str
            )

    @api.depends("payload")
    def _compute_summary(self):
        currencies = {}
        for order in self:
            summary = order_summary(order.payload)
            code = summary["currency"]
            if code and code not in currencies:
                currencies[code] = (
                    self.env["res.currency"].with_context(active_test=False).search([("name", "=", code)], limit=1)
                )
            order.order_date = summary["date"] or False
            order.customer_name = summary["customer"] or False
            order.customer_email = summary["email"] or False
            order.currency_id = currencies.get(code, False)
            order.amount_total = summary["total"] or 0.0
            order.product_summary = (
                ", ".join(f"{_quantity(line['quantity'])} × {line['name']}" for line in summary["lines"])[:250] or False
            )

    @api.depends("payload")
    def _compute_line_summary(self):
        # apart from the stored summary: computing it while reading must not rewrite them
        for order in self:
            order.line_summary = "\n".join(
                f"{_quantity(line['quantity'])} × {line['name']}"
                + (f" ({line['reference']})" if line["reference"] else "")
                + (f" @ {line['unit_price']}" if line["unit_price"] is not None else "")
                for line in order_summary(order.payload)["lines"]
            )

    @api.depends("status_to_send", "status_sent")
    def _compute_status_pending(self):
        for order in self:
            order.status_pending = bool(order.status_to_send) and order.status_to_send != order.status_sent

    # ------------------------------------------------------------------
    # receiving
    # ------------------------------------------------------------------
    @api.model
    def _receive(self, channel, data):
        """Store one fetched order, then import it. Never raises for bad data.

        Returns the stored order, or None when another worker is handling it.
        """
        external_id = str(data.get("external_id") or "").strip() if isinstance(data, dict) else ""
        try:
            with self.env.cr.savepoint():
                order = self._store(channel, external_id, data)
        except CONCURRENT_ERRORS:
            if self.env.context.get("multichannel_raise_concurrent"):
                raise  # the caller reads the order again later
            _logger.info("%s: order %s is being handled by another worker", channel.name, external_id)
            return None
        except Exception as error:  # noqa: BLE001 - kept for a human rather than lost
            _logger.warning("%s: order %s could not be stored as sent", channel.name, external_id, exc_info=True)
            unreadable = {
                "external_id": external_id,
                "unreadable": str(data)[:20000],
                "error": f"could not be stored as sent ({type(error).__name__}: {error})",
            }
            with self.env.cr.savepoint():
                order = self._store(channel, external_id, unreadable)
        if order:
            order._process()
        return order

    def _store(self, channel, external_id, data):
        payload = without_nul(data if isinstance(data, (dict, list)) else {"unreadable": str(data)})
        external_id = without_nul(external_id)
        existing = external_id and self.search(
            [("channel_id", "=", channel.id), ("external_id", "=", external_id)], limit=1
        )
        if existing:
            existing._lock()
            if existing._is_newer_than(payload):
                _logger.info("%s: an older version of order %s ignored", channel.name, external_id)
                return None
            if existing.state in OPEN_STATES or existing._reopened_by(payload):
                existing.write(
                    {"payload": payload, "state": "received"} if existing.state == "skipped" else {"payload": payload}
                )
                existing._refresh_pending_quantities()
                return existing
            existing._apply_channel_update(payload)
            return None
        self.env.cr.execute(
            """
            INSERT INTO multichannel_order (name, channel_id, company_id, external_id, state, payload,
                                            attempts, create_uid, write_uid, create_date, write_date)
            VALUES (%s, %s, %s, %s, 'received', %s, 0, %s, %s, now() at time zone 'UTC', now() at time zone 'UTC')
            ON CONFLICT (channel_id, external_id) DO NOTHING
            RETURNING id
            """,
            (
                self._reference(channel, payload, external_id),
                channel.id,
                channel.company_id.id,
                external_id or None,
                json.dumps(payload, default=str),
                self.env.uid,
                self.env.uid,
            ),
            log_exceptions=False,
        )
        row = self.env.cr.fetchone()
        if not row:
            return None
        order = self.browse(row[0])
        # inserted in SQL: what the order says is computed from its payload here
        for field_name in (
            "order_date",
            "customer_name",
            "customer_email",
            "currency_id",
            "amount_total",
            "product_summary",
        ):
            self.env.add_to_compute(self._fields[field_name], order)
        order._refresh_pending_quantities()
        return order

    @api.model
    def _reference(self, channel, payload, external_id):
        """The order's reference for people, saying its channel: "eMAG Romania 100001"."""
        number = (str(payload.get("name") or "").strip() if isinstance(payload, dict) else "") or external_id
        return f"{channel.name} {number}" if number else self.env._("%s (no id)", channel.name)

    def _is_newer_than(self, payload):
        """Whether the stored order is a later version than ``payload`` (a late or replayed
        webhook, an overlapping poll): by the channel's own modification date."""
        stored = (self.payload or {}).get("modified") if isinstance(self.payload, dict) else None
        incoming = payload.get("modified") if isinstance(payload, dict) else None
        return bool(stored and incoming and str(incoming) < str(stored))

    def _reopened_by(self, payload):
        """An order left aside because it arrived cancelled comes back to life on the channel
        (a failed payment paid after all): it is imported after all. Not when a human skipped it."""
        if self.state != "skipped" or self.skipped_by_user:
            return False
        try:
            return normalize_order(payload)["status"] in ("open", "pending")
        except OrderDataError:
            return False

    def _lock(self):
        """Lock the row or raise one of CONCURRENT_ERRORS without waiting."""
        self.env.cr.execute(
            "SELECT id FROM multichannel_order WHERE id IN %s FOR UPDATE NOWAIT",
            (tuple(self.ids),),
            log_exceptions=False,
        )

    def _normalized(self):
        return normalize_order(self.payload)

    def _ordered_quantities(self, payload=None):
        """{product id (str): quantity} of the order's lines that match a product."""
        quantities = defaultdict(float)
        try:
            data = normalize_order(self.payload if payload is None else payload)
        except OrderDataError:
            data = {"lines": []}
        for line, product in zip(data["lines"], self._find_products(data["lines"]), strict=True):
            if product:
                quantities[str(product.id)] += line["quantity"]
        return quantities

    def _refresh_pending_quantities(self):
        """The order (new or updated by the channel) holds its units until Odoo reserves them."""
        quantities = self._ordered_quantities()
        previous = set((self.pending_quantities or {}).keys())
        self.pending_quantities = dict(quantities) or False
        self._request_stock_sync(previous | set(quantities), channel_moved=True)

    def _request_stock_sync(self, product_ids, channel_moved=False):
        """Queue the products' listings for a stock push.

        ``channel_moved``: the order was placed, changed or cancelled on its channel, which
        may have moved the quantity it shows by itself: that channel re-sends them.
        """
        if product_ids:
            channel = self.channel_id
            moved = (
                channel_moved
                and channel.channel_type in channel._connected_types()
                and channel._adapter_class().lowers_stock_on_order
            )
            self.env["multichannel.product.binding"]._request_stock_sync_at_commit(
                [int(p) for p in product_ids],
                cause=self.env._("order %s", self.name),
                moved_on_channel=moved and channel,
            )

    def _close(self, state, **values):
        """Leave the open states: the order no longer counts as pending stock."""
        self._request_stock_sync((self.pending_quantities or {}).keys())
        self.write(dict(values, state=state, pending_quantities=False))

    # ------------------------------------------------------------------
    # importing
    # ------------------------------------------------------------------
    def _process(self):
        """Turn stored orders into sale orders, each on its own: one bad order never stops the others.

        Whatever goes wrong with one order (its data, the channel's answer to the
        acknowledgement, the sale order) leaves it "To Fix" with a readable reason.
        """
        for order in self:
            try:
                with self.env.cr.savepoint():
                    order._lock()
            except CONCURRENT_ERRORS:
                _logger.info("%s: order %s is being handled by another worker", order.channel_id.name, order.name)
                continue
            order.invalidate_recordset()
            if order.state not in OPEN_STATES:
                continue
            try:
                with self.env.cr.savepoint():
                    order._process_one()
            except CONCURRENT_ERRORS:
                _logger.info("%s: order %s met a concurrent update, retried later", order.channel_id.name, order.name)
            except Exception as error:  # noqa: BLE001 - one order's fault must not stop the batch
                _logger.warning("%s: order %s could not be imported", order.channel_id.name, order.name, exc_info=True)
                order.invalidate_recordset()
                order._fail(
                    self.env._(
                        "The order could not be imported (%(type)s: %(error)s).", type=type(error).__name__, error=error
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
            self._fail(self.env._("The channel's order data is invalid: %s", error))
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
            self.write({"state": "pending", "error": False, "channel_status": data["status"]})
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
            self._fail(self.env._("The channel's order data is invalid after acknowledging it: %s", error))
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
        self.env["multichannel.ledger"]._log_order(
            self,
            "order",
            "ok",
            self.env._("Imported as %s", sale.name),
            new_value=sale.name,
            duration_ms=int((time.monotonic() - started) * 1000),
        )

    def _fail(self, message):
        self.write({"state": "error", "error": message, "attempts": self.attempts + 1})
        self.env["multichannel.ledger"]._log_order(self, "order", "refused", message)

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
            self.write({"error": self.env._("Could not acknowledge the order on the channel: %s", error)})
            return False
        values = {"acknowledged": True}
        if fresh:
            values["payload"] = without_nul(fresh)  # stored as the first read was: PostgreSQL refuses NUL
        self.write(values)
        return True

    def action_retry(self):
        self._check_can_import()
        for order in self:
            if order.state not in OPEN_STATES:
                raise UserError(self.env._("Only orders not imported yet can be retried."))
        self.sudo()._process()
        return True

    def action_skip(self):
        """A human decides this order will never be imported."""
        self._check_can_handle()
        user = self.env.user
        for order in self.sudo().filtered(lambda o: o.state in OPEN_STATES):
            order._close("skipped", warning=self.env._("Skipped by %s", user.name), skipped_by_user=True)
        return True

    def _find_product(self, line):
        """The product of an order line: listing external id, then listing SKU, then internal reference."""
        return self._find_products([line])[0]

    def _find_products(self, lines):
        """The products of order lines (an empty recordset for a line that matches none), in
        a few queries for all of them: by listing external id, then listing SKU, then
        internal reference."""
        Product = self.env["product.product"].sudo()
        channel = self.channel_id
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
        line_commands = []
        taxes = {}  # the company's sales taxes, searched once per order
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
                self._line_command(
                    product,
                    line["quantity"],
                    line["unit_price"],
                    line["tax_rate"],
                    include_tax,
                    line["name"],
                    problems,
                    taxes,
                )
            )
        for shipping in data["shipping"]:
            line_commands.append(
                self._line_command(
                    channel.shipping_product_id,
                    1,
                    shipping["amount"],
                    shipping["tax_rate"],
                    include_tax,
                    shipping["name"] or channel.shipping_product_id.name,
                    problems,
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
                    include_tax,
                    discount["name"] or channel.discount_product_id.name,
                    problems,
                    taxes,
                )
            )
        partner, delivery = self._customer_partners(data, problems)
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
            sale.message_post(body=body, subtype_xmlid="mail.mt_note")

    def _line_command(self, product, quantity, price, tax_rate, include_tax, name, problems, taxes=None):
        values = {"product_id": product.id, "product_uom_qty": quantity, "price_unit": price}
        if name:
            values["name"] = name if name != product.name else product.display_name
        if tax_rate is not None:
            values["tax_id"] = [fields.Command.set(self._tax_for(tax_rate, include_tax, problems, taxes).ids)]
        return fields.Command.create(values)

    def _tax_for(self, rate, include_tax, problems, taxes=None):
        """The company's sales tax of ``rate`` percent, priced as the channel prices.

        ``taxes``: a dict kept by the caller for one order, so that the company's sales
        taxes are searched once per order, not once per line.
        """
        if not rate:
            return self.env["account.tax"]
        company = self.channel_id.company_id
        taxes = {} if taxes is None else taxes
        if include_tax not in taxes:
            taxes[include_tax] = (
                self.env["account.tax"]
                .sudo()
                .with_company(company)
                .search(
                    [
                        ("type_tax_use", "=", "sale"),
                        ("amount_type", "=", "percent"),
                        ("company_id", "=", company.id),
                        ("price_include", "=", include_tax),
                    ]
                )
            )
        taxes = taxes[include_tax].filtered(lambda tax: float_compare(tax.amount, rate, precision_digits=4) == 0)
        if not taxes:
            problems.append(
                self.env._(
                    "No sales tax of %(rate)s%% (%(kind)s) in %(company)s: create one.",
                    rate=rate,
                    kind=self.env._("price included") if include_tax else self.env._("price excluded"),
                    company=company.name,
                )
            )
        return taxes[:1]

    # ------------------------------------------------------------------
    # customers
    # ------------------------------------------------------------------
    def _customer_partners(self, data, problems):
        """(invoice partner, delivery partner), found or created."""
        customer = data["customer"]
        delivery_data = data["shipping_address"] or customer
        missing = [
            label
            for key, label in (("street", self.env._("street")), ("city", self.env._("city")))
            if not delivery_data.get(key)
        ]
        country = self._country(delivery_data)
        if not country:
            missing.append(self.env._("country"))
        if missing:
            problems.append(self.env._("The delivery address lacks: %s.", ", ".join(missing)))
            return self.env["res.partner"], self.env["res.partner"]
        partner = self._match_partner(customer) or self._create_partner(customer)
        delivery = partner
        if data["shipping_address"] and not self._same_address(partner, data["shipping_address"]):
            delivery = partner.child_ids.filtered(
                lambda p: p.type == "delivery" and self._same_address(p, data["shipping_address"])
            )[:1]
            delivery = delivery or self._create_partner(data["shipping_address"], parent=partner)
        return partner, delivery

    def _match_partner(self, customer):
        """The customer's existing contact, never someone else's.

        The same e-mail address; else the same VAT number (a legal entity's own); else the
        same phone *and* the same name (a phone is shared by families and offices). Anything
        else is a new contact: merging two people would hand one the other's orders,
        invoices and address.
        """
        Partner = self.env["res.partner"].sudo()
        domain = [("company_id", "in", (self.channel_id.company_id.id, False)), ("parent_id", "=", False)]
        name = (customer.get("company") if customer.get("is_company") else customer.get("name")) or ""
        criteria = []
        if customer.get("email"):
            criteria.append([("email", "=ilike", escape_psql(customer["email"].strip()))])
        if customer.get("vat"):
            criteria.append([("vat", "=", customer["vat"].strip())])
        if customer.get("phone") and name.strip():
            criteria.append([("phone", "=", customer["phone"].strip()), ("name", "=ilike", escape_psql(name.strip()))])
        for criterion in criteria:
            partner = Partner.search(criterion + domain, limit=1)
            if partner:
                return partner
        return Partner

    def _country(self, address):
        code = address.get("country_code")
        country = code and self.env["res.country"].search([("code", "=", code)], limit=1)
        return country or self.channel_id.customer_country_id

    def _same_address(self, partner, address):
        return all(
            (partner[field] or "").strip().lower() == (address.get(key) or "").strip().lower()
            for key, field in (("street", "street"), ("city", "city"), ("zip", "zip"))
        )

    def _create_partner(self, address, parent=None):
        country = self._country(address)
        state = address.get("state") and self.env["res.country.state"].search(
            [
                ("country_id", "=", country.id),
                "|",
                ("code", "=ilike", address["state"]),
                ("name", "=ilike", address["state"]),
            ],
            limit=1,
        )
        is_company = bool(address.get("is_company") and address.get("company") and not parent)
        values = {
            "name": (address["company"] if is_company else address.get("name")) or address.get("company"),
            "is_company": is_company,
            "email": address.get("email") or False,
            "phone": address.get("phone") or False,
            "street": address.get("street") or False,
            "street2": address.get("street2") or False,
            "city": address.get("city") or False,
            "zip": address.get("zip") or False,
            "country_id": country.id,
            "state_id": state.id if state else False,
            "company_id": self.channel_id.company_id.id,
        }
        if self.channel_id.customer_lang:
            values["lang"] = self.channel_id.customer_lang
        if parent:
            values.update(parent_id=parent.id, type="delivery")
        elif address.get("vat"):
            values["vat"] = address["vat"]
        return self.env["res.partner"].sudo().create(values)

    # ------------------------------------------------------------------
    # updates from the channel after import
    # ------------------------------------------------------------------
    def _apply_channel_update(self, payload):
        """A later read of an imported order: follow a cancellation made on the channel.

        The same id with other products, customer or date is not an update but another
        order (an id the channel reused) or one edited after it was imported: it is kept
        aside for a human, never written over what the sale order was made from.
        """
        difference = self.sale_order_id and content_difference(self.payload, payload)
        if difference:
            self._flag_changed(payload, difference)
            return
        self.payload = payload
        try:
            status = normalize_order(payload)["status"]
        except OrderDataError:
            return
        if status == self.channel_status:
            return
        self.channel_status = status
        self._request_stock_sync(set(self._ordered_quantities()), channel_moved=True)  # it may give units back
        if status != "cancelled" or self.state != "done":
            return
        sale = self.sale_order_id
        shipped = sale.picking_ids.filtered(lambda p: p.state == "done" and p.location_dest_id.usage == "customer")
        if not shipped and sale.state != "cancel":
            sale.with_context(multichannel_from_channel=True, disable_cancel_warning=True)._action_cancel()
            self.write({"state": "cancelled"})
            self.message_post(body=self.env._("Cancelled on the channel: sale order %s cancelled.", sale.name))
        elif shipped:
            message = self.env._("Cancelled on the channel after it was shipped: handle the return.")
            self.warning = message
            sale.activity_schedule(
                "mail.mail_activity_data_todo", summary=message, user_id=(self.channel_id.user_id or self.env.user).id
            )

    def _flag_changed(self, payload, difference):
        if self.content_changed and self.changed_payload == payload:
            return
        message = self.env._(
            "The channel sent order %(ref)s again with %(difference)s. Sale order %(sale)s was left as it "
            "was: check it with the channel, correct it by hand if needed, then mark this order as handled.",
            ref=self.external_id,
            difference=difference,
            sale=self.sale_order_id.name,
        )
        previous = set((self.pending_quantities or {}).keys())
        self.write({"content_changed": True, "changed_payload": payload, "error": message})
        # the other order took the channel's units: they stay held until a human settles it
        quantities = self._ordered_quantities(payload)
        self.pending_quantities = dict(quantities) or False
        self._request_stock_sync(previous | set(quantities), channel_moved=True)
        self.message_post(body=message)
        self.env["multichannel.ledger"]._log_order(self, "order", "refused", message)

    def action_mark_handled(self):
        """A human settled an order the channel sent again different: its new content is now the stored one."""
        self._check_can_import()
        for order in self.sudo().filtered("content_changed"):
            order._request_stock_sync((order.pending_quantities or {}).keys())
            order.write(
                {
                    "payload": order.changed_payload,
                    "changed_payload": False,
                    "content_changed": False,
                    "error": False,
                    "pending_quantities": False,
                }
            )
            order.message_post(body=self.env._("Marked as handled by %s.", self.env.user.name))
        return True

    # ------------------------------------------------------------------
    # status back to the channel
    # ------------------------------------------------------------------
    def _queue_status(self, status):
        """Ask for ``status`` to be sent; called from whoever ships or cancels, so as the engine."""
        orders = self.sudo().filtered(lambda o: o.status_sent != status)
        if orders:
            orders.write({"status_to_send": status, "status_error": False})
            self.env["multichannel.channel"]._trigger_realtime("status")

    @api.model
    def _send_statuses(self, auto_commit=False):
        # an archived channel (or one switched off on a database copy) sends nothing
        orders = self.sudo().search([("status_pending", "=", True), ("channel_id.active", "=", True)], order="id")
        orders._send_status(auto_commit)

    def _send_status(self, auto_commit=False):
        unreachable = self.env["multichannel.channel"]  # after a temporary fault, the channel's next orders wait
        for order in self:
            channel = order.channel_id
            if channel in unreachable or channel._over_budget():
                continue
            try:
                with self.env.cr.savepoint():
                    order._lock()
            except CONCURRENT_ERRORS:
                continue
            status = order.status_to_send
            started = time.monotonic()
            try:
                answer = channel._call(
                    channel._get_adapter().send_order_status, order.external_id, status, order.payload
                )
            except (TransportError, ChannelError) as error:
                if isinstance(error, TransportError):
                    unreachable |= channel
                order.status_error = self.env._(
                    "Sending status %(status)s failed: %(error)s", status=status, error=error
                )
                self.env["multichannel.ledger"]._log_order(
                    order, "status", "failed", str(error), old_value=order.status_sent or "", new_value=status
                )
            else:
                self.env["multichannel.ledger"]._log_order(
                    order,
                    "status",
                    "ok",
                    answer or "",
                    old_value=order.status_sent or "",
                    new_value=status,
                    duration_ms=int((time.monotonic() - started) * 1000),
                )
                order.write({"status_sent": status, "status_error": False, "status_sent_at": fields.Datetime.now()})
            channel._commit(auto_commit)

    def action_send_status(self):
        self._check_can_handle()
        self.sudo().filtered("status_pending")._send_status()
        return True
