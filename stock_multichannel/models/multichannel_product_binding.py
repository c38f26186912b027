from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, float_compare
from odoo.tools.sql import create_index, drop_index

from ..const import ENGINE_FIELDS, LISTING_STATES, OTHER_KIND, REFUSED_RETRY_SECONDS, REFUSED_VALUE
from ..lib.adapter import ListingExtra, ProductTax
from ..lib.messages import translated

# what an order's line is matched by (see multichannel.order._find_products)
MATCHING_FIELDS = frozenset({"product_id", "external_id", "external_sku", "active"})


class MultichannelProductBinding(models.Model):
    """One product variant listed on one channel."""

    _name = "multichannel.product.binding"
    _description = "Channel Listing"
    _order = "channel_id, id"
    _rec_name = "product_id"
    _check_company_auto = True

    # indexed by the (channel, product) unique index and the partial indexes of init()
    channel_id = fields.Many2one("multichannel.channel", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="channel_id.company_id", store=True, index=True)
    product_id = fields.Many2one(
        "product.product",
        required=True,
        ondelete="restrict",
        index=True,
        check_company=True,
        domain="[('type', '=', 'consu')]",
    )
    product_tmpl_id = fields.Many2one(related="product_id.product_tmpl_id", store=True, index=True)
    default_code = fields.Char(related="product_id.default_code", string="Internal Reference")
    active = fields.Boolean(default=True)
    external_id = fields.Char("External ID", copy=False, help="The channel's id of this offer / product.")
    external_parent_id = fields.Char(
        "External Parent ID", copy=False, help="The parent product on the channel, for variations."
    )
    external_sku = fields.Char("External SKU", copy=False)

    stock_sync = fields.Boolean("Sync Stock", default=True)
    price_sync = fields.Boolean("Sync Price", default=True)
    stock_pending = fields.Boolean(default=True, readonly=True, copy=False)
    price_pending = fields.Boolean(default=True, readonly=True, copy=False)
    stock_cause = fields.Char(readonly=True, copy=False)
    price_cause = fields.Char(readonly=True, copy=False)
    stock_requested_at = fields.Datetime(readonly=True, copy=False, help="The oldest stock change not pushed yet.")
    price_requested_at = fields.Datetime(readonly=True, copy=False, help="The oldest price change not pushed yet.")
    # "max", not "sum": each channel shows the same units, never added up across channels
    pushed_qty = fields.Integer(readonly=True, copy=False, aggregator="max")
    stock_moved_by_channel = fields.Boolean(
        "Moved by the Channel",
        readonly=True,
        copy=False,
        help="An order on the channel changed the quantity it shows since the last push: the next push "
        "sends Odoo's quantity again, whatever it was.",
    )
    stock_pushed_at = fields.Datetime("Quantity Pushed At", readonly=True, copy=False)
    pushed_price = fields.Float(readonly=True, copy=False, digits="Product Price")
    pushed_regular_price = fields.Float(
        readonly=True, copy=False, digits="Product Price", help="The list price sent with the price (the 'was' price)."
    )
    price_pushed_at = fields.Datetime(readonly=True, copy=False)
    currency_id = fields.Many2one(related="channel_id.currency_id")
    state = fields.Selection(LISTING_STATES, default="pending", required=True, readonly=True, copy=False)
    drift_found_at = fields.Datetime(
        readonly=True,
        copy=False,
        help="When the audit last found the channel showing something else.",
    )
    drift_fixed = fields.Boolean(readonly=True, copy=False, help="Sent again since the audit found the drift.")
    last_error = fields.Text(readonly=True, copy=False)
    error_kind = fields.Selection(
        [("stock", "Stock"), ("price", "Price"), ("both", "Stock and Price")],
        "Refused Push",
        readonly=True,
        copy=False,
        help="The push the channel refused: its error stays until that push is accepted (the other one's "
        "success does not clear it).",
    )
    # each kind's refusal apart: one push's success, or refusal, leaves the other's as it is
    stock_error = fields.Text("Stock Refused", readonly=True, copy=False)
    price_error = fields.Text("Price Refused", readonly=True, copy=False)
    refused_qty = fields.Integer(readonly=True, copy=False, help="The quantity the channel refused, as sent.")
    # as sent (a price may be sent finer than the cent): compared at the currency's rounding
    refused_price = fields.Float(readonly=True, copy=False, help="The price the channel refused, as sent.")
    refused_regular_price = fields.Float(readonly=True, copy=False)
    # an answer of the channel is written only for the address the listing had when it was sent
    address_version = fields.Integer(
        readonly=True,
        copy=False,
        default=0,
        help="Counts the changes of where on the channel the listing's values go (its ids, its product).",
    )
    stock_retry_at = fields.Datetime(
        "Quantity Sent Again At",
        readonly=True,
        copy=False,
        help="The scheduled pushes send a refused quantity again at this time, or as soon as it moves; a push "
        "started by hand sends it at once.",
    )
    price_retry_at = fields.Datetime(
        "Price Sent Again At",
        readonly=True,
        copy=False,
        help="The scheduled pushes send a refused price again at this time, or as soon as it moves; a push "
        "started by hand sends it at once.",
    )

    queued = fields.Boolean(
        "Change Queued",
        compute="_compute_sync_status",
        search="_search_queued",
        help="A stock or price change waits for the channel's next push.",
    )
    sync_status = fields.Selection(
        LISTING_STATES,
        "Status",
        compute="_compute_sync_status",
        help="Pending while a change waits for the channel's schedule, Synced once the channel shows it.",
    )

    target_qty = fields.Integer(compute="_compute_targets")
    target_price = fields.Float(compute="_compute_targets", digits="Product Price")

    _sql_constraints = [
        ("product_uniq", "unique(channel_id, product_id)", "A product is listed once per channel."),
        ("external_id_uniq", "unique(channel_id, external_id)", "This external ID is already listed on the channel."),
    ]

    def init(self):
        # The push settles listings by the thousand: an index on each of these columns took
        # a new entry at every settle. Partial indexes hold only the listings still waiting
        # or in error (what the push, the dashboard and the filters look for), so a listing
        # settled in sync leaves them alone.
        for column in ("channel_id", "stock_pending", "price_pending", "state"):
            drop_index(self.env.cr, f"{self._table}__{column}_index", self._table)
        for name, where in (
            ("stock_waiting", "stock_pending"),
            ("price_waiting", "price_pending"),
            ("in_error", "state = 'error'"),
        ):
            create_index(self.env.cr, f"{self._table}_{name}_index", self._table, ["channel_id"], where=where)

    @api.depends("channel_id", "product_id")
    def _compute_targets(self):
        for channel in self.channel_id:
            listings = self.filtered(lambda b, c=channel: b.channel_id == c and b.product_id)
            quantities = channel._stock_targets(listings)
            prices = channel._price_targets(listings)
            for listing in listings:
                listing.target_qty = quantities[listing.id]
                listing.target_price = prices[listing.id]
        for listing in self.filtered(lambda b: not b.channel_id or not b.product_id):
            listing.target_qty = 0
            listing.target_price = 0.0

    def _queued_ids(self, ids=None):
        """Ids of listings with a change queued for a push (among ``ids`` when given): a
        request of theirs, or a stock change of their product not fanned out yet."""
        self.env["multichannel.sync.request"].flush_model()
        self.flush_model(["active", "channel_id", "product_id", "stock_sync"])
        self.env["multichannel.channel"].flush_model(["active"])

        def among(column):
            return SQL("AND %s = ANY(%s)", column, list(ids)) if ids is not None else SQL()

        self.env.cr.execute(
            SQL(
                """
                SELECT binding_id FROM multichannel_sync_request r WHERE true %(among_requests)s
                 UNION
                SELECT b.id FROM multichannel_stock_change s
                  JOIN multichannel_product_binding b ON b.product_id = s.product_id
                  JOIN multichannel_channel c ON c.id = b.channel_id
                 WHERE b.active AND b.stock_sync AND c.active %(among_listings)s
                """,
                among_requests=among(SQL.identifier("r", "binding_id")),
                among_listings=among(SQL.identifier("b", "id")),
            )
        )
        return {row[0] for row in self.env.cr.fetchall()}

    @api.depends("state", "stock_pending", "price_pending")
    def _compute_sync_status(self):
        queued = self._queued_ids(self.ids) if self.ids else set()
        for listing in self:
            listing.queued = listing.id in queued
            if listing.state == "error":
                listing.sync_status = "error"
            elif listing.state == "pending" or listing.stock_pending or listing.price_pending or listing.queued:
                listing.sync_status = "pending"
            else:
                listing.sync_status = "synced"

    def _search_queued(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on queued changes."))
        positive = (operator == "=") == value
        return [("id", "in" if positive else "not in", list(self._queued_ids()))]

    def _check_engine_fields(self, vals):
        if not self.env.su and ENGINE_FIELDS.intersection(vals):
            raise AccessError(
                self.env._(
                    "The sync state of a listing is kept by the push engine: %s cannot be written.",
                    ", ".join(sorted(ENGINE_FIELDS.intersection(vals))),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_engine_fields(vals)
            if not vals.get("external_sku") and vals.get("product_id"):
                vals["external_sku"] = self.env["product.product"].browse(vals["product_id"]).default_code
        listings = super().create(vals_list)
        listings._match_held_units_again()
        return listings

    def unlink(self):
        channels = self.channel_id
        result = super().unlink()
        self.browse()._match_held_units_again(channels)
        return result

    def _match_held_units_again(self, channels=None):
        """The orders of these listings' channels still holding units match their lines again
        (see multichannel.order), once per transaction, just before it commits: a listing
        import or a CSV import writes listings one by one."""
        channel_ids = (channels or self.channel_id).ids
        if not channel_ids:
            return
        precommit = self.env.cr.precommit
        key = "multichannel.rematch_channels"
        if key not in precommit.data:
            precommit.data[key] = set()
            env = self.env

            def match_again():
                channels = env["multichannel.channel"].browse(sorted(precommit.data.pop(key, ())))
                env["multichannel.order"]._match_held_units_again(channels)

            precommit.add(match_again)
        precommit.data[key].update(channel_ids)

    def write(self, vals):
        self._check_engine_fields(vals)
        if "channel_id" in vals and any(listing.channel_id.id != vals["channel_id"] for listing in self):
            # its offer id, its pushes and its ledger are the channel's: the product is listed anew there
            raise UserError(self.env._("A listing stays on its channel: list the product on the other channel."))
        # switching sync back on, moving the listing or matching it to another product asks
        # for a fresh push (a listing archived meanwhile was left out of the changes queued since)
        moved = self._changed_by(vals, self._address_fields())

        moved_ids = set(moved.ids)

        def sent_anew(listing):
            """The kinds the write sends anew: those it syncs when it moves or comes back from the
            archive, a kind whose sync is ticked again; not one ticked already (a CSV import or a
            multi-edit writing what is there would lift every refusal's hold)."""
            back = listing.id in moved_ids or (vals.get("active") and not listing.active)
            return tuple(
                kind
                for kind in ("stock", "price")
                if (back and vals.get(f"{kind}_sync", listing[f"{kind}_sync"]))
                or (vals.get(f"{kind}_sync") and not listing[f"{kind}_sync"])
            )

        renewing = moved or {"active", "stock_sync", "price_sync"}.intersection(vals)
        groups = self.grouped(lambda listing: (listing.id in moved_ids, sent_anew(listing))) if renewing else {}
        if len(groups) > 1:  # the same values written, moving or renewing some listings only
            return all(group.write(dict(vals)) for group in groups.values())
        renewed = sent_anew(self[:1]) if groups else ()
        if moved:  # what the channel shows at the new address, or of the new product, is unknown: sent anyway
            vals.update(stock_pushed_at=False, price_pushed_at=False)
        # and a refusal is tried again at once (what was refused was sent elsewhere, or long ago)
        unsynced = [kind for kind in ("stock", "price") if f"{kind}_sync" in vals and not vals[f"{kind}_sync"]]
        for kind in ("stock", "price"):
            if kind in unsynced:
                vals.setdefault(f"{kind}_pending", False)  # nothing of it waits: ticked again, it is sent anew
            elif kind in renewed:
                vals.setdefault(f"{kind}_pending", True)
                vals.setdefault(f"{kind}_retry_at", False)
        rematching = self._changed_by(vals, MATCHING_FIELDS)
        result = super().write(vals)
        if moved:
            self._count_address_change()
        if rematching:
            self._match_held_units_again()
        for kind in unsynced:
            # what the channel refused of it no longer counts: the listing's state is the other kind's
            self.sudo()._write_leaving_the_other_kind(kind, {f"{kind}_error": False, f"{kind}_retry_at": False})
        return result

    def _changed_by(self, vals, names):
        """These listings of which ``vals`` change one of the fields ``names``."""
        names = [name for name in names if name in vals]
        if not names:
            return self.browse()

        def value(listing, name):
            return (listing[name].id if name == "product_id" else listing[name]) or False

        return self.filtered(lambda listing: any(value(listing, name) != (vals[name] or False) for name in names))

    def _count_address_change(self):
        """One more address for each listing: an answer to what was sent to the one before is
        not theirs (see ``_still_sent_there``)."""
        self.flush_recordset(["address_version"])
        self.env.cr.execute(
            SQL(
                "UPDATE multichannel_product_binding SET address_version = COALESCE(address_version, 0) + 1"
                " WHERE id = ANY(%s)",
                self.ids,
            )
        )
        self.invalidate_recordset(["address_version"], flush=False)

    @api.model
    def _address_fields(self):
        """The fields saying where on the channel a listing's values go: a listing whose
        address changes is sent there, whatever was shown at the old one."""
        return ("external_id", "external_parent_id", "product_id")

    def _write_leaving_the_other_kind(self, kind, values):
        """Write ``values`` (``kind`` done with: settled, or no longer synced) and the state the
        other kind leaves: its refusal stays while that kind still waits and is synced (in
        error), else pending while it waits, else synced."""
        other = OTHER_KIND[kind]
        refused = self.filtered(lambda listing: listing._refused_for(other))
        for listing in refused:
            listing.write(dict(values, state="error", **self._error_summary({other: listing[f"{other}_error"]})))
        cleared = dict(values, **{f"{other}_error": False}, last_error=False, error_kind=False)
        waiting = self.filtered(f"{other}_pending") - refused
        if waiting:
            waiting.write(dict(cleared, state="pending"))
        if self - refused - waiting:
            (self - refused - waiting).write(dict(cleared, state="synced"))

    def _lock_in_order(self):
        """Lock these listings' rows in the order of their ids, as every push and drain does
        before writing them: two of them writing the same listings wait for each other and
        never deadlock."""
        if self.ids:
            self.env.cr.execute(
                "SELECT id FROM multichannel_product_binding WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE",
                [sorted(self.ids)],
                log_exceptions=False,
            )

    def _extras(self, kind):
        """What the connector needs to send these listings' ``kind`` ('stock' or 'price')
        besides ids and values, by listing id (the ``extra`` of their updates). One call
        per batch: a connector extending it reads what it needs for the whole batch at
        once, and only what that kind needs. For prices, each product's sales tax."""
        taxes = self._product_taxes() if kind == "price" else {}
        return {
            listing.id: ListingExtra(
                parent_id=listing.external_parent_id or "",
                tax=taxes.get(listing.product_id.id) if taxes else None,
            )
            for listing in self
        }

    def _product_taxes(self):
        """Each product's own percent sales taxes in its channel's company, mapped by the
        channel's fiscal position, as one :class:`ProductTax` by product id; a product
        without any is left out."""
        taxes_by_product, by_taxes = {}, {}
        for channel in self.channel_id.sudo():
            company, position = channel.company_id, channel.fiscal_position_id
            listings = self.filtered(lambda b, channel=channel: b.channel_id == channel)
            for product in listings.product_id.sudo():
                # the template's taxes (read for the whole batch at once, where the variant's
                # related field is computed product by product), looked at once per set of taxes
                taxes = product.product_tmpl_id.taxes_id
                if (company, position, taxes) not in by_taxes:
                    # as a sale order of the company takes them: its own (or its parent's), mapped
                    # to the channel's customers', groups opened
                    applied = position.map_tax(taxes._filter_taxes_by_company(company)).flatten_taxes_hierarchy()
                    percent = applied.filtered(lambda tax: tax.amount_type == "percent")
                    by_taxes[company, position, taxes] = percent and ProductTax(
                        rate=sum(percent.mapped("amount")), price_includes_tax=any(percent.mapped("price_include"))
                    )
                if by_taxes[company, position, taxes]:
                    taxes_by_product[product.id] = by_taxes[company, position, taxes]
        return taxes_by_product

    def action_compare_with_channel(self):
        """Read these listings back from their channels; re-send those that differ.

        It calls the channels: for their operators, as every call from a button is."""
        self.check_access("write")
        self.channel_id._check_operator_rights()
        drifted = 0
        for channel in self.channel_id:
            listings = self.filtered(lambda b, c=channel: b.channel_id == c and b.external_id)
            adapter = channel.sudo()._get_adapter()
            page = channel._call(adapter.read_shown, None, listings.mapped("external_id"))
            drifted += channel.sudo()._compare_shown(page.items, adapter)
        return self.channel_id[:1]._notify(
            self.env._(
                "%(drift)s of %(count)s listings differed on the channel: sent again.", drift=drifted, count=len(self)
            )
            if drifted
            else self.env._("The channel shows what Odoo expects."),
            kind="warning" if drifted else "success",
        )

    def action_mark_pending(self):
        self.check_access("write")
        self.sudo().write(
            {
                "stock_pending": True,
                "price_pending": True,
                "state": "pending",
                "error_kind": False,
                "stock_error": False,
                "price_error": False,
                "stock_retry_at": False,
                "price_retry_at": False,
                "last_error": False,
            }
        )
        return True

    def _refused(self, kind, message, value=None, regular=None):
        """The channel (or Odoo, before sending) refused these listings' ``kind``: in error
        and pending until a push of that kind is accepted. ``value`` (and the ``regular``
        price sent with a price): what the channel refused; the scheduled pushes send it
        again only once it moves or ``REFUSED_RETRY_SECONDS`` have passed. None: sent again
        at the next push (a refusal Odoo made, costing no call, or an unknown outcome)."""
        other = OTHER_KIND[kind]
        message = message or self.env._("Refused by the channel, without a reason.")
        values = {
            "state": "error",
            f"{kind}_pending": True,
            f"{kind}_error": message,
            REFUSED_VALUE[kind]: value or 0,
            f"{kind}_retry_at": (
                fields.Datetime.now() + timedelta(seconds=REFUSED_RETRY_SECONDS) if value is not None else False
            ),
        }
        if kind == "price":
            values["refused_regular_price"] = regular or 0.0
        for listing in self:
            # the other kind's refusal, while it still counts
            other_error = listing._refused_for(other) and listing[f"{other}_error"]
            summary = self._error_summary({kind: message, other: other_error})
            listing.write(dict(values, **{f"{other}_error": other_error}, **summary))
        if self and values[f"{kind}_retry_at"]:
            # the scheduled push comes back for it then, however seldom it runs
            self.env["multichannel.channel"]._wake_by(kind, values[f"{kind}_retry_at"])

    @api.model
    def _error_summary(self, errors):
        """``last_error`` and ``error_kind`` for ``errors``, {kind: its refusal or False}."""
        refused = [kind for kind in ("stock", "price") if errors.get(kind)]
        return {
            "last_error": "\n".join(errors[kind] for kind in refused) or False,
            "error_kind": ("both" if len(refused) == 2 else refused[0]) if refused else False,
        }

    def _refusal_stands(self, kind, value, now, regular=None):
        """Whether the channel refused this listing's ``kind`` with ``value`` (and ``regular``
        price) lately enough that a scheduled push need not send it again (the same call
        would be refused again)."""
        retry_at = self[f"{kind}_retry_at"]
        if not (self[f"{kind}_error"] and retry_at and retry_at > now):
            return False
        if kind == "stock":
            return self.refused_qty == int(value)
        rounding = self.channel_id.pricelist_id.currency_id.rounding
        return not any(
            float_compare(refused, sent or 0.0, precision_rounding=rounding)
            for refused, sent in ((self.refused_price, value), (self.refused_regular_price, regular))
        )

    def _refused_for(self, kind):
        """Whether the channel refused this listing's ``kind`` and that still counts: the kind
        waits for a push (pending) and is synced at all."""
        return bool(self[f"{kind}_error"]) and self[f"{kind}_pending"] and self[f"{kind}_sync"]

    def _mark_settled(self, kind, values=None):
        """The channel shows these listings' ``kind`` as Odoo wants it: nothing waits any more.

        Shared by pushed listings and listings whose target did not move, so both end in the
        same state (still pending while the other kind waits, no stale cause or latency start).
        """
        settled = dict(
            values or {},
            **{
                f"{kind}_pending": False,
                f"{kind}_cause": False,
                f"{kind}_requested_at": False,
                f"{kind}_error": False,
                f"{kind}_retry_at": False,
                "drift_fixed": True,
            },
        )
        if kind == "stock":
            settled["stock_moved_by_channel"] = False
        self._write_leaving_the_other_kind(kind, settled)

    @api.model
    def _apply_push_results(self, kind, batch, results, regular_prices=None, sent_to=None):
        """Write what the channel answered: refused items to error, accepted ones settled,
        all of those in one UPDATE (what ``_mark_settled`` writes, with each one's value).
        ``sent_to``: {listing id: its ``address_version`` when it was sent} (default: now).
        Returns the listings settled."""
        if sent_to is None:
            sent_to = {listing.id: listing.address_version for listing, _target in batch}
        accepted, not_taken = [], []
        for listing, target in batch:
            result = results.get(listing.id)
            regular = regular_prices[listing.id] if regular_prices else None
            if result and result.ok:
                accepted.append((listing.id, target, regular, sent_to[listing.id]))
            else:
                not_taken.append((listing, target, result, regular))
        # the refused ones' address looked at here, the accepted ones' by the settle UPDATE itself
        still_there = (
            self._still_sent_there(kind, {listing.id: sent_to[listing.id] for listing, *_rest in not_taken})
            if not_taken
            else set()
        )
        for listing, target, result, regular in not_taken:
            if listing.id in still_there:
                message = (
                    translated(self.env, result.message)
                    if result
                    else self.env._("The channel did not answer for this item.")
                )
                listing._refused(kind, message, target if result and result.refused else None, regular)
        return self._settle_pushed(kind, accepted) if accepted else self.browse()

    @api.model
    def _still_sent_there(self, kind, sent_to):
        """The ids of the listings of ``sent_to`` ({id: address version}) still at the address
        they were sent to (any of ``_address_fields``), and still syncing ``kind``, as
        committed now (a user's edit may have come while they were on their way): a refusal
        of the other address, or of what is no longer synced, is not theirs."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT b.id FROM multichannel_product_binding b
                  JOIN unnest(%(ids)s, %(versions)s) AS v(id, version) ON v.id = b.id
                 WHERE b.%(sync)s AND COALESCE(b.address_version, 0) = v.version
                """,
                ids=SQL("%s::int[]", list(sent_to)),
                versions=SQL("%s::int[]", [version or 0 for version in sent_to.values()]),
                sync=SQL.identifier(f"{kind}_sync"),
            )
        )
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _settle_pushed(self, kind, accepted):
        """``accepted``: (listing id, value the channel now shows, regular price or None,
        the address version it was sent at). Returns the listings settled.

        A listing moved meanwhile (to another of the channel's ids, another product: a
        user's edit, committed while its batch was on the way) is not settled: it stays
        pending for its new address.
        """
        other = OTHER_KIND[kind]
        value_column = "pushed_qty" if kind == "stock" else "pushed_price"
        changed = [
            value_column,
            f"{kind}_pushed_at",
            f"{kind}_pending",
            f"{kind}_cause",
            f"{kind}_requested_at",
            f"{kind}_error",
            f"{kind}_retry_at",
            f"{other}_error",
            "last_error",
            "error_kind",
            "drift_fixed",
            "state",
        ]
        extra = []
        if kind == "stock":
            extra.append(SQL("stock_moved_by_channel = false"))
            changed.append("stock_moved_by_channel")
        else:
            extra.append(SQL("pushed_regular_price = COALESCE(v.regular, b.pushed_regular_price)"))
            changed.append("pushed_regular_price")
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                UPDATE multichannel_product_binding b
                   SET %(value)s = v.value,
                       %(pushed_at)s = %(now)s,
                       %(pending)s = false,
                       %(cause)s = NULL,
                       %(requested_at)s = NULL,
                       %(error)s = NULL,
                       %(retry_at)s = NULL,
                       -- the other kind's refusal stays, while that kind still waits
                       %(other_error)s = CASE WHEN %(other_refused)s THEN b.%(other_error)s END,
                       last_error = CASE WHEN %(other_refused)s THEN b.%(other_error)s END,
                       error_kind = CASE WHEN %(other_refused)s THEN %(other)s END,
                       drift_fixed = true,
                       state = CASE WHEN %(other_refused)s THEN 'error'
                                    WHEN b.%(other_pending)s THEN 'pending' ELSE 'synced' END,
                       write_uid = %(uid)s,
                       write_date = %(now)s,
                       %(extra)s
                  FROM unnest(%(ids)s, %(values)s, %(regulars)s, %(versions)s) AS v(id, value, regular, version)
                 WHERE b.id = v.id AND COALESCE(b.address_version, 0) = v.version
                RETURNING b.id
                """,
                value=SQL.identifier(value_column),
                pushed_at=SQL.identifier(f"{kind}_pushed_at"),
                pending=SQL.identifier(f"{kind}_pending"),
                cause=SQL.identifier(f"{kind}_cause"),
                requested_at=SQL.identifier(f"{kind}_requested_at"),
                error=SQL.identifier(f"{kind}_error"),
                retry_at=SQL.identifier(f"{kind}_retry_at"),
                other=other,
                other_error=SQL.identifier(f"{other}_error"),
                other_pending=SQL.identifier(f"{other}_pending"),
                other_refused=SQL(
                    "(b.%s IS NOT NULL AND b.%s AND b.%s)",
                    SQL.identifier(f"{other}_error"),
                    SQL.identifier(f"{other}_pending"),
                    SQL.identifier(f"{other}_sync"),
                ),
                now=fields.Datetime.now(),
                uid=self.env.uid,
                extra=SQL(", ").join(extra),
                # one array per column: the same rows, without a placeholder per value
                ids=SQL("%s::int[]", [listing_id for listing_id, *_rest in accepted]),
                values=SQL(
                    "%s::int[]" if kind == "stock" else "%s::float8[]", [value for _id, value, *_rest in accepted]
                ),
                regulars=SQL("%s::float8[]", [regular for _id, _value, regular, *_rest in accepted]),
                versions=SQL("%s::int[]", [version or 0 for *_rest, version in accepted]),
            ),
        )
        settled = self.browse([row[0] for row in self.env.cr.fetchall()])
        self.browse([listing_id for listing_id, *_rest in accepted]).invalidate_recordset(
            [*changed, "write_uid", "write_date"], flush=False
        )
        return settled
