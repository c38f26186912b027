import hashlib
import json
import logging
import weakref
from collections import defaultdict
from contextlib import contextmanager

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..const import ORDER_OPEN_STATES, ORDER_SHARED_FIELDS, ORDER_STATES, UNIDENTIFIED_PREFIX
from ..lib.messages import translated
from ..lib.orders import OrderDataError, normalize_order, order_summary, readable_lines, without_nul
from ..lib.transactions import ROUTINE_RUN_ERRORS

_logger = logging.getLogger(__name__)

# orders inserted by the transaction of a _receive still running, by cursor (see _receiving)
_INSERTED = weakref.WeakKeyDictionary()
# the orders each cursor left to the worker holding them (see _noting_skipped)
_SKIPPED = weakref.WeakKeyDictionary()


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
    state = fields.Selection(ORDER_STATES, default="received", required=True, readonly=True, index=True, tracking=True)
    error = fields.Text(readonly=True)
    warning = fields.Text(readonly=True, help="Imported, but something needs a look (total, cancellation).")
    attempts = fields.Integer(readonly=True)
    acknowledged = fields.Boolean(readonly=True)
    skipped_by_user = fields.Boolean(readonly=True, copy=False)
    hold_attention = fields.Boolean(
        "Held: Needs a Look",
        readonly=True,
        copy=False,
        help="Held (not paid yet) for longer than the channel allows, or for a reason the connector could not "
        "read: its units are kept off every channel until it is paid, cancelled or never imported.",
    )
    pending_quantities = fields.Json(readonly=True, help="{product id: quantity} while not reserved in Odoo.")
    sale_order_id = fields.Many2one("sale.order", readonly=True, index=True, ondelete="set null")
    oversold = fields.Boolean(related="sale_order_id.multichannel_oversold")
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
        if self._inserted_by_this_transaction():
            # as Odoo tracks no value set at creation: what the import made of an order
            # received in the same transaction is its first state, not a change of it
            self = self.with_context(mail_notrack=True)
        return super().write(vals)

    def _inserted_by_this_transaction(self):
        """Whether these orders were inserted by a ``_receive`` of this transaction still
        running (others, inserted earlier in it, count as not)."""
        inserted = _INSERTED.get(self.env.cr)
        return bool(inserted and self.ids and inserted.issuperset(self.ids))

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
            order.update(self._summary(order.channel_id, order.payload, currencies))

    @api.model
    def _summary(self, channel, payload, currencies):
        """The stored summary's values for an order of ``channel`` saying ``payload``.

        ``currencies``: {code: currency} kept by the caller, each code searched once.
        """
        summary = order_summary(payload)
        code, total = summary["currency"], summary["total"]
        if code not in currencies:
            currency = channel.pricelist_id.currency_id
            if code and code != currency.name:
                Currency = self.env["res.currency"].with_context(active_test=False)
                currency = Currency.search([("name", "=", code)], limit=1)
            currencies[code] = currency if code else self.env["res.currency"]
        return {
            "order_date": summary["date"] or False,
            "customer_name": summary["customer"] or False,
            "customer_email": summary["email"] or False,
            "currency_id": currencies[code].id,
            # rounded to its currency, as the ORM rounds a Monetary field
            "amount_total": currencies[code].round(total) if total and currencies[code] else total or 0.0,
            "product_summary": (
                ", ".join(f"{_quantity(line['quantity'])} × {line['name']}" for line in summary["lines"])[:250] or False
            ),
        }

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

    @api.model
    def _receive(self, channel, data):
        """Store one fetched order, then import it. Never raises for bad data.

        Returns the stored order, or None when another worker is handling it.
        """
        # its stock changes queued in one statement, not one per savepoint; its lines matched once
        with self.env["multichannel.sync.request"]._holding_stock(), self._matching_once(), self._receiving():
            return self._receive_held(channel, data)

    @api.model
    @contextmanager
    def _noting_skipped(self):
        """Within the block, collect the external ids of the orders left to another worker
        holding them (a user shipping or cancelling one): what the channel said of them now
        is read again by the next import, not passed by its watermark."""
        cr = self.env.cr
        skipped = _SKIPPED[cr] = set()
        try:
            yield skipped
        finally:
            _SKIPPED.pop(cr, None)

    @contextmanager
    def _receiving(self):
        """Within the block (one transaction: nothing commits inside), the orders it inserts
        are known as new: no other transaction sees them, so none needs locking."""
        cr = self.env.cr
        if cr in _INSERTED:
            yield
            return
        inserted = _INSERTED[cr] = set()
        cr.postcommit.add(inserted.clear)  # should anything commit inside: they are seen from then on
        try:
            yield
        finally:
            del _INSERTED[cr]

    @api.model
    def _forget_what_others_write(self):
        """Drop from the cache what other transactions write while an import goes on.

        The import runs in READ COMMITTED and commits only now and then: what an order read
        stays in Odoo's cache for the next ones, and Odoo writes some of it back as read
        (a quant's reserved quantity plus the new reservation). Between two orders it
        forgets stock, the products' quantities, listings and orders
        (``ORDER_SHARED_FIELDS``); what the import only reads stays.
        """
        self.env.flush_all()
        for model, fnames in ORDER_SHARED_FIELDS.items():
            if model in self.env:
                Model = self.env[model]
                Model.invalidate_model(fnames and [name for name in fnames if name in Model._fields], flush=False)

    def _receive_held(self, channel, data):
        external_id = str(data.get("external_id") or "").strip() if isinstance(data, dict) else ""
        try:
            with self.env.cr.savepoint():
                order = self._store(channel, external_id, data)
        except ROUTINE_RUN_ERRORS:
            if self.env.context.get("multichannel_raise_concurrent"):
                raise  # the caller reads the order again later
            _logger.info("%s: order %s is being handled by another worker", channel.name, external_id)
            if self.env.cr in _SKIPPED:
                _SKIPPED[self.env.cr].add(external_id)
            return None
        except Exception as error:  # noqa: BLE001 - kept for a human rather than lost
            _logger.warning("%s: order %s could not be stored as sent", channel.name, external_id, exc_info=True)
            imported = external_id and self._stored(channel, external_id).filtered("sale_order_id")
            if imported:  # what its sale order was made from stays: the update is told, not stored
                with self.env.cr.savepoint():
                    imported._update_not_applied(error)
                return imported
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

    def _update_not_applied(self, error):
        """Told on the sale order with an activity for the channel's responsible (a
        cancellation not applied, the goods could be shipped), once per error."""
        message = self.env._(
            "The channel sent order %(ref)s again and Odoo could not apply it (%(error)s). Check the order on the "
            "channel and sale order %(sale)s.",
            ref=self.name,
            error=f"{type(error).__name__}: {translated(self.env, error)}",
            sale=self.sale_order_id.name,
        )
        Ledger = self.env["multichannel.ledger"]
        if not Ledger.search_count([("order_id", "=", self.id), ("answer", "=", message)], limit=1):
            self._tell_sale(self.env._("Channel's update not applied"), message, result="failed")

    def _store(self, channel, external_id, data):
        channel = channel.with_env(self.env)  # read as the import reads (a user's button: sudo)
        payload = without_nul(data if isinstance(data, (dict, list)) else {"unreadable": str(data)})
        # an order the channel sent without its id is stored once per content, not at every read
        external_id = without_nul(external_id) or self._unidentified_key(payload)
        existing = external_id and self._stored(channel, external_id)
        if not existing:
            order = self._insert(channel, external_id, payload)
            if order or not external_id:
                return order
            # another worker stored it since, and committed (seen in READ COMMITTED): updated
            existing = self._stored(channel, external_id)
            if not existing:
                _logger.info(
                    "%s: order %s was stored and deleted meanwhile; read again later", channel.name, external_id
                )
                return None
        existing._lock()
        if existing._is_newer_than(payload):
            _logger.info("%s: an older version of order %s ignored", channel.name, external_id)
            return None
        if existing.state in ORDER_OPEN_STATES or existing._reopened_by(payload):
            existing.write(
                {"payload": payload, "state": "received"} if existing.state == "skipped" else {"payload": payload}
            )
            existing._refresh_pending_quantities()
            return existing
        existing._apply_channel_update(payload)
        return None

    @api.model
    def _unidentified_key(self, payload):
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
        return f"{UNIDENTIFIED_PREFIX}{digest[:16]}"

    def _stored(self, channel, external_id):
        """The channel's order ``external_id`` as stored already (one indexed lookup)."""
        self.env.cr.execute(
            "SELECT id FROM multichannel_order WHERE channel_id = %s AND external_id = %s",
            (channel.id, external_id),
        )
        row = self.env.cr.fetchone()
        return self.browse(row[0] if row else ())

    def _insert(self, channel, external_id, payload):
        """Insert a new order as received, what it says and the units it holds with it;
        None when the channel's order is stored already."""
        quantities = dict(self._ordered_quantities(payload, channel))
        summary = self._summary(channel, payload, {})
        columns = {
            "name": self._reference(channel, payload, external_id),
            "channel_id": channel.id,
            "company_id": channel.company_id.id,
            "external_id": external_id or None,
            "state": "received",
            "payload": json.dumps(payload, default=str),
            "attempts": 0,
            "create_uid": self.env.uid,
            "write_uid": self.env.uid,
            **{name: None if value is False else value for name, value in summary.items()},
            "pending_quantities": json.dumps(quantities) if quantities else None,
        }
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO multichannel_order (%s, create_date, write_date)
                VALUES (%s, now() at time zone 'UTC', now() at time zone 'UTC')
                ON CONFLICT (channel_id, external_id) DO NOTHING
                RETURNING id
                """,
                SQL(", ").join(SQL.identifier(name) for name in columns),
                SQL(", ").join(SQL("%s", value) for value in columns.values()),
            ),
            log_exceptions=False,
        )
        row = self.env.cr.fetchone()
        if not row:
            return None
        order = self.browse(row[0])
        if self.env.cr in _INSERTED:
            _INSERTED[self.env.cr].add(order.id)
        order._request_stock_sync(set(quantities), channel_moved=True)
        return order

    @api.model
    def _reference(self, channel, payload, external_id):
        """The order's reference for people, saying its channel: "eMAG Romania 100001"."""
        named = str(payload.get("name") or "").strip() if isinstance(payload, dict) else ""
        number = named or (external_id if external_id and not external_id.startswith(UNIDENTIFIED_PREFIX) else "")
        return f"{channel.name} {number}" if number else self.env._("%s (no id)", channel.name)

    def _is_newer_than(self, payload):
        """Whether the stored order is a later version than ``payload`` (a late or replayed
        webhook, an overlapping poll): by the channel's own modification date, and, within
        its second, by the acknowledgement (which the channel never takes back): a read
        from before it, stored over the read after it, would import the order as it was
        before (a customer's change or cancellation lost). The different order the channel
        sent last (``changed_payload``, kept for a human) counts as stored: a read from before
        it would take the flag away and free the units it holds."""
        incoming = payload if isinstance(payload, dict) else {}
        after = incoming.get("modified")
        for stored in (self.payload, self.changed_payload):
            stored = stored if isinstance(stored, dict) else {}
            before = stored.get("modified")
            if before and after and str(after) < str(before):
                return True
            if stored.get("acknowledged") is True and incoming.get("acknowledged") is False:
                return True
        return False

    def _reopened_by(self, payload):
        """An order left aside because it arrived cancelled comes back to life on the channel
        (a failed payment paid after all): it is imported after all. Not when a human skipped it,
        nor one that arrived done on the channel (closed): that one was handled outside Odoo."""
        if self.state != "skipped" or self.skipped_by_user or self.channel_status == "closed":
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

    def _ordered_quantities(self, payload=None, channel=None):
        """{product id (str): quantity} of the order's lines that match a product of its
        channel (or ``channel``'s, for an order not stored yet)."""
        quantities = defaultdict(float)
        payload = self.payload if payload is None else payload
        try:
            data = normalize_order(payload)
        except OrderDataError:
            since = (channel or self.channel_id).order_import_since
            data = {"lines": readable_lines(payload, since)}
        for line, product in zip(data["lines"], self._find_products(data["lines"], channel), strict=True):
            if product:
                quantities[str(product.id)] += line["quantity"]
        return quantities

    def _held_quantities(self, payload=None):
        """The units the order (or ``payload``, a changed order kept aside) holds from every
        channel: its lines', none once the channel cancelled it (its shelf has them back; an
        order closed there, done, still takes them from Odoo's)."""
        payload = self.payload if payload is None else payload
        normalized = self._normalized_or_none(payload)
        if normalized and normalized["status"] == "cancelled":
            return {}
        return self._ordered_quantities(payload)

    def _refresh_pending_quantities(self):
        """The order (new or updated by the channel) holds its units until Odoo reserves them."""
        self._hold_units(self._ordered_quantities(), channel_moved=True)

    def _hold_units(self, quantities, channel_moved=False):
        """Hold ``quantities`` ({product id (str): quantity}) instead of what the order held:
        the products of both are queued (see ``_request_stock_sync``)."""
        previous = set((self.pending_quantities or {}).keys())
        self.pending_quantities = dict(quantities) or False
        self._request_stock_sync(previous | set(quantities), channel_moved=channel_moved)

    @api.model
    def _match_held_units_again(self, channels):
        """Listings of ``channels`` changed what an order's line matches (another product, id
        or SKU; a listing added, archived, removed): the orders still holding units (not
        imported yet, or flagged with the different order the channel sent) hold them on the
        products their lines match now. Else the units stayed off the old product, and the new
        one was shown on every channel in full: sold twice."""
        holding = ["|", ("state", "in", ORDER_OPEN_STATES), ("content_changed", "=", True)]
        orders = self.sudo().search([("channel_id", "in", channels.ids), *holding])
        for order in orders:
            quantities = dict(order._held_quantities(order.changed_payload if order.content_changed else None))
            if quantities != (order.pending_quantities or {}):
                order._hold_units(quantities)

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
            self.env["multichannel.sync.request"]._queue_stock_at_commit(
                [int(p) for p in product_ids], moved_on_channel=moved and channel
            )

    def _close(self, state, **values):
        """Leave the open states: the order no longer counts as pending stock."""
        self._request_stock_sync((self.pending_quantities or {}).keys())
        if self.state == "pending":
            values.setdefault("error", False)  # a held order's error only ever says why it is held
        self.write(dict(values, state=state, pending_quantities=False, hold_attention=False))
