import json

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

STATES = [("pending", "Pending"), ("synced", "Synced"), ("error", "Error")]
# waiting for a push: marked so by the engine, or a change queued since (its schedule not come yet)
PENDING_DOMAIN = ["|", "|", ("stock_pending", "=", True), ("price_pending", "=", True), ("queued", "=", True)]
# what the push engine records of the channel's side: written by the engine only, never by
# a user (a faked pushed quantity would make the engine believe the channel shows it)
ENGINE_FIELDS = frozenset(
    {
        "stock_pending",
        "price_pending",
        "stock_cause",
        "price_cause",
        "stock_requested_at",
        "price_requested_at",
        "pushed_qty",
        "stock_pushed_at",
        "pushed_price",
        "pushed_regular_price",
        "price_pushed_at",
        "state",
        "last_error",
        "stock_moved_by_channel",
        "drift_found_at",
        "drift_fixed",
    }
)


class MultichannelProductBinding(models.Model):
    """One product variant listed on one channel."""

    _name = "multichannel.product.binding"
    _description = "Channel Listing"
    _order = "channel_id, id"
    _rec_name = "product_id"
    _check_company_auto = True

    channel_id = fields.Many2one("multichannel.channel", required=True, ondelete="cascade", index=True)
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
    external_stock_on_parent = fields.Boolean(
        "Stock on Parent", copy=False, help="The channel keeps this variation's stock on its parent product."
    )

    stock_sync = fields.Boolean("Sync Stock", default=True)
    price_sync = fields.Boolean("Sync Price", default=True)
    stock_pending = fields.Boolean(default=True, index=True, readonly=True, copy=False)
    price_pending = fields.Boolean(default=True, index=True, readonly=True, copy=False)
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
    state = fields.Selection(STATES, default="pending", required=True, readonly=True, copy=False, index=True)
    drift_found_at = fields.Datetime(
        readonly=True,
        copy=False,
        help="When the audit last found the channel showing something else.",
    )
    drift_fixed = fields.Boolean(readonly=True, copy=False, help="Sent again since the audit found the drift.")
    last_error = fields.Text(readonly=True, copy=False)

    queued = fields.Boolean(
        "Change Queued",
        compute="_compute_sync_status",
        search="_search_queued",
        help="A stock or price change waits for the channel's next push.",
    )
    sync_status = fields.Selection(
        STATES,
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
        """Ids of listings with a change queued for a push (among ``ids`` when given)."""
        self.env["multichannel.sync.request"].flush_model()
        where = SQL("WHERE binding_id = ANY(%s)", list(ids)) if ids is not None else SQL()
        self.env.cr.execute(SQL("SELECT DISTINCT binding_id FROM multichannel_sync_request %s", where))
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
        return super().create(vals_list)

    def write(self, vals):
        self._check_engine_fields(vals)
        # switching sync back on, or moving the listing, asks for a fresh push
        if vals.get("stock_sync") or "external_id" in vals:
            vals.setdefault("stock_pending", True)
        if vals.get("price_sync") or "external_id" in vals:
            vals.setdefault("price_pending", True)
        return super().write(vals)

    def _extras(self):
        """What the connector needs to send these listings besides ids and values, by
        listing id (the ``extra`` of their updates). One call per batch: a connector
        extending it reads what it needs for the whole batch at once."""
        return {
            listing.id: (
                {"parent_id": listing.external_parent_id, "stock_on_parent": listing.external_stock_on_parent}
                if listing.external_parent_id
                else {}
            )
            for listing in self
        }

    def action_compare_with_channel(self):
        """Read these listings back from their channels; re-send those that differ."""
        self.check_access("write")
        drifted = 0
        for channel in self.channel_id:
            listings = self.filtered(lambda b, c=channel: b.channel_id == c and b.external_id)
            page = channel._call(channel.sudo()._get_adapter().read_shown, None, listings.mapped("external_id"))
            drifted += channel.sudo()._compare_shown(page.items)
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
        self.sudo().write({"stock_pending": True, "price_pending": True, "state": "pending"})
        return True

    # ------------------------------------------------------------------
    # change detection
    # ------------------------------------------------------------------
    @api.model
    def _request_sync(self, kind, cause, product_ids=(), pricelist_ids=(), channel_moved_ids=()):
        """Queue a push of ``kind`` for listings of these products / pricelists.

        ``channel_moved_ids`` are (channel id, product id) pairs whose listing the channel
        changed by itself: their shown quantity is forgotten when the request is drained.
        Only inserts into the request queue: no lock on listing rows, so stock
        operations never wait on a push in progress. Wakes the push cron when a
        real-time channel is concerned.
        """
        if not product_ids and not pricelist_ids:
            return
        moved = sorted({f"{channel_id}-{product_id}" for channel_id, product_id in channel_moved_ids})
        self.flush_model(["active", "channel_id", "product_id", f"{kind}_sync"])
        self.env["multichannel.channel"].flush_model(["active", "pricelist_id", f"{kind}_schedule"])
        # by product through the listings' product index; a condition on either table
        # (product OR pricelist) would read every listing
        matching = SQL(" OR ").join(
            [
                *([SQL("b.product_id = ANY(%s)", list(product_ids))] if product_ids else []),
                *([SQL("c.pricelist_id = ANY(%s)", list(pricelist_ids))] if pricelist_ids else []),
            ]
        )
        # once per listing and kind per transaction: a row this transaction queued already
        # (at an earlier savepoint, say) is enough, unless this one also says the channel
        # moved the listing; a row rolled back with its savepoint is queued again
        self.env.cr.execute(
            SQL(
                """
                WITH requested AS (
                    SELECT b.id, (b.channel_id || '-' || b.product_id) = ANY(%(moved)s) AS moved
                      FROM multichannel_product_binding b
                      JOIN multichannel_channel c ON c.id = b.channel_id
                     WHERE b.active AND c.active AND %(sync)s AND (%(matching)s)
                ), inserted AS (
                    INSERT INTO multichannel_sync_request
                                (binding_id, kind, cause, requested_at, channel_moved, transaction_id)
                    SELECT q.id, %(kind)s, %(cause)s, clock_timestamp() AT TIME ZONE 'UTC', q.moved, txid_current()
                      FROM requested q
                     WHERE NOT EXISTS (
                            SELECT 1 FROM multichannel_sync_request r
                             WHERE r.binding_id = q.id AND r.kind = %(kind)s
                               AND r.transaction_id = txid_current() AND (r.channel_moved OR NOT q.moved))
                    RETURNING binding_id
                )
                SELECT bool_or(%(schedule)s = 'realtime')
                  FROM inserted i
                  JOIN multichannel_product_binding b ON b.id = i.binding_id
                  JOIN multichannel_channel c ON c.id = b.channel_id
                """,
                kind=kind,
                cause=cause,
                moved=moved,
                sync=SQL.identifier("b", f"{kind}_sync"),
                matching=matching,
                schedule=SQL.identifier("c", f"{kind}_schedule"),
            )
        )
        if self.env.cr.fetchone()[0]:
            self.env["multichannel.channel"]._trigger_realtime(kind)

    @api.model
    def _request_stock_sync_at_commit(self, product_ids, cause="stock change", moved_on_channel=None):
        """Collect products whose stock moved; queue them once, just before commit.

        ``moved_on_channel``: the channel whose own shown quantity of these products
        moved (one of its orders), so that its listings are re-sent whatever they show.
        """
        precommit = self.env.cr.precommit
        key = "multichannel.stock_products"
        if key not in precommit.data:
            precommit.data[key] = set()
            precommit.data["multichannel.channel_moved"] = set()
            precommit.add(self._flush_stock_requests)
        precommit.data[key].update(product_ids)
        if moved_on_channel:
            precommit.data["multichannel.channel_moved"].update((moved_on_channel.id, p) for p in product_ids)

    def _flush_stock_requests(self):
        product_ids = self.env.cr.precommit.data.pop("multichannel.stock_products", set())
        moved = self.env.cr.precommit.data.pop("multichannel.channel_moved", set())
        self._request_sync("stock", "stock change", product_ids=sorted(product_ids), channel_moved_ids=moved)
        self.env.flush_all()

    @api.model
    def _drain_sync_requests(self, channel, kind):
        """Turn the queued requests of a channel into pending listings."""
        self.flush_model()
        self.env.cr.execute(
            """
            DELETE FROM multichannel_sync_request r
             USING multichannel_product_binding b
             WHERE b.id = r.binding_id AND b.channel_id = %s AND r.kind = %s
            RETURNING r.binding_id, r.cause, r.requested_at, r.channel_moved
            """,
            (channel.id, kind),
        )
        causes, oldest, moved = {}, {}, set()
        for binding_id, cause, requested_at, channel_moved in self.env.cr.fetchall():
            causes.setdefault(binding_id, cause)
            if channel_moved:
                moved.add(binding_id)
            if requested_at and (binding_id not in oldest or requested_at < oldest[binding_id]):
                oldest[binding_id] = requested_at
        if not causes:
            return
        self.env.cr.execute(
            f"""
            UPDATE multichannel_product_binding
               SET {kind}_pending = true,
                   {kind}_cause = (%s::jsonb ->> id::text),
                   {kind}_requested_at = LEAST({kind}_requested_at, (%s::jsonb ->> id::text)::timestamp),
                   state = CASE WHEN state = 'error' THEN state ELSE 'pending' END,
                   stock_moved_by_channel = stock_moved_by_channel OR id = ANY(%s)
             WHERE id = ANY(%s)
            """,
            (
                json.dumps({str(k): v for k, v in causes.items()}),
                json.dumps({str(k): v.isoformat() for k, v in oldest.items()}),
                list(moved),
                list(causes),
            ),
        )
        self.invalidate_model(
            [f"{kind}_pending", f"{kind}_cause", f"{kind}_requested_at", "state", "stock_moved_by_channel"],
            flush=False,
        )

    def _mark_settled(self, kind, values=None):
        """The channel shows these listings' ``kind`` as Odoo wants it: nothing waits any more.

        Shared by pushed listings and listings whose target did not move, so both end in the
        same state (still pending while the other kind waits, no stale cause or latency start).
        """
        other = "price" if kind == "stock" else "stock"
        settled = dict(
            values or {},
            **{
                f"{kind}_pending": False,
                f"{kind}_cause": False,
                f"{kind}_requested_at": False,
                "last_error": False,
                "drift_fixed": True,
            },
        )
        if kind == "stock":
            settled["stock_moved_by_channel"] = False
        waiting = self.filtered(f"{other}_pending")
        if waiting:
            waiting.write(dict(settled, state="pending"))
        if self - waiting:
            (self - waiting).write(dict(settled, state="synced"))

    @api.model
    def _apply_push_results(self, kind, batch, results, regular_prices=None):
        """Write what the channel answered: refused items to error, accepted ones settled,
        all of those in one UPDATE (what ``_mark_settled`` writes, with each one's value)."""
        accepted = []
        for listing, target in batch:
            result = results.get(listing.id)
            if result and result.ok:
                accepted.append((listing.id, target, regular_prices[listing.id] if regular_prices else None))
            else:
                message = result.message if result else self.env._("The channel did not answer for this item.")
                listing.write({"state": "error", "last_error": message})
        if accepted:
            self._settle_pushed(kind, accepted)

    @api.model
    def _settle_pushed(self, kind, accepted):
        """``accepted``: (listing id, value the channel now shows, regular price or None)."""
        other = "price" if kind == "stock" else "stock"
        value_column = "pushed_qty" if kind == "stock" else "pushed_price"
        changed = [
            value_column,
            f"{kind}_pushed_at",
            f"{kind}_pending",
            f"{kind}_cause",
            f"{kind}_requested_at",
            "last_error",
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
                       last_error = NULL,
                       drift_fixed = true,
                       state = CASE WHEN b.%(other_pending)s THEN 'pending' ELSE 'synced' END,
                       write_uid = %(uid)s,
                       write_date = %(now)s,
                       %(extra)s
                  FROM (VALUES %(rows)s) AS v(id, value, regular)
                 WHERE b.id = v.id
                """,
                value=SQL.identifier(value_column),
                pushed_at=SQL.identifier(f"{kind}_pushed_at"),
                pending=SQL.identifier(f"{kind}_pending"),
                cause=SQL.identifier(f"{kind}_cause"),
                requested_at=SQL.identifier(f"{kind}_requested_at"),
                other_pending=SQL.identifier(f"{other}_pending"),
                now=fields.Datetime.now(),
                uid=self.env.uid,
                extra=SQL(", ").join(extra),
                rows=SQL(", ").join(
                    SQL(
                        "(%s::int, %s, %s::float8)",
                        listing_id,
                        SQL("%s::int", value) if kind == "stock" else SQL("%s::float8", value),
                        regular,
                    )
                    for listing_id, value, regular in accepted
                ),
            )
        )
        self.browse([listing_id for listing_id, _value, _regular in accepted]).invalidate_recordset(
            [*changed, "write_uid", "write_date"], flush=False
        )
