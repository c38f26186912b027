import json
import uuid
import weakref
from contextlib import contextmanager

from odoo import api, fields, models
from odoo.tools import SQL

from ..lib.transactions import CONCURRENT_ERRORS

# stock changes collected while a block holds them (see _holding_stock), by database cursor
_HELD = weakref.WeakKeyDictionary()
STOCK_CHANGE_CAUSE = "stock change"


class MultichannelSyncRequest(models.Model):
    """Queue of "this listing needs a push" written by stock and price changes.

    Changes only ever INSERT here (no update of listing rows, so they never wait on, or
    conflict with, a push in progress). The push engine turns the rows into pending
    listings and deletes them. One row per listing and kind per transaction:
    ``transaction_id`` (the top-level transaction, the same in its savepoints) lets a
    transaction see what it queued already.

    Odoo's own stock operations write even less: the ids of the products whose stock
    moved, one row per product and transaction in ``multichannel_stock_change``. The
    push turns those into requests for every listing of the products (see
    ``_fan_out_stock_changes``), so a stock operation pays one small insert whatever the
    number of channels listing its products.
    """

    _name = "multichannel.sync.request"
    _description = "Channel Sync Request"
    _log_access = False

    binding_id = fields.Many2one("multichannel.product.binding", required=True, ondelete="cascade", index=True)
    kind = fields.Selection([("stock", "Stock"), ("price", "Price")], required=True)
    cause = fields.Char()
    requested_at = fields.Datetime(help="When the change was committed: the start of the push latency.")
    channel_moved = fields.Boolean(
        help="What the channel shows of this listing is no longer known to be what Odoo last sent (an "
        "order on the channel, a call that got no answer): it is sent again whatever it was."
    )
    due_at = fields.Datetime(
        "Not Before",
        help="Not pushed before then: a listing sent again once a call that got no answer can no longer "
        "reach the channel.",
    )

    def init(self):
        # bigint: PostgreSQL's 64-bit transaction id, which an Odoo Integer (int4) cannot hold
        self.env.cr.execute(SQL("ALTER TABLE multichannel_sync_request ADD COLUMN IF NOT EXISTS transaction_id bigint"))
        # no foreign key: a deleted product's row fans out to no listing, and the insert
        # made by every stock operation checks nothing more than its own unique index
        self.env.cr.execute(
            """
            CREATE TABLE IF NOT EXISTS multichannel_stock_change (
                transaction_id bigint,
                product_id integer NOT NULL,
                requested_at timestamp NOT NULL
            );
            CREATE UNIQUE INDEX IF NOT EXISTS multichannel_stock_change_once
                ON multichannel_stock_change (transaction_id, product_id);
            """
        )
        # a push's calls under way, committed before its first call (see _note_calls_under_way)
        self.env.cr.execute(
            """
            CREATE TABLE IF NOT EXISTS multichannel_push_under_way (
                channel_id integer NOT NULL,
                kind varchar NOT NULL,
                token varchar NOT NULL,
                since timestamp NOT NULL,
                PRIMARY KEY (channel_id, kind)
            );
            """
        )

    @api.model
    def _note_calls_under_way(self, channel, kind):
        """Note that a push of ``channel``'s ``kind`` starts calling the channel; the caller
        commits it before the first call. Returns the note's token, for ``_calls_ended``.

        A run that stops in the middle of its calls (its worker killed, its transaction
        failed) leaves the note behind, and with it the proof that a call it made may still
        reach the channel: the requests it queued to send its listings again once such a
        call can no longer arrive (``_queue_again_in``) were rolled back with it."""
        token = uuid.uuid4().hex
        self.env.cr.execute(
            """
            INSERT INTO multichannel_push_under_way (channel_id, kind, token, since)
            VALUES (%s, %s, %s, now() at time zone 'UTC')
            ON CONFLICT (channel_id, kind) DO UPDATE SET token = EXCLUDED.token, since = EXCLUDED.since
            """,
            (channel.id, kind, token),
        )
        return token

    @api.model
    def _calls_ended(self, channel, kind, token):
        """The push that noted ``token`` ended its calls (another worker's newer note stays)."""
        self.env.cr.execute(
            "DELETE FROM multichannel_push_under_way WHERE channel_id = %s AND kind = %s AND token = %s",
            (channel.id, kind, token),
        )

    @api.model
    def _calls_left_under_way(self, channel, kind):
        """How many seconds ago a push of ``channel``'s ``kind`` that stopped in the middle of
        its calls began them (see ``_note_calls_under_way``), or None; asked by the push
        holding the channel's lock, which takes the note over. Read off the database's
        clock, which every server shares."""
        self.env.cr.execute(
            """
            DELETE FROM multichannel_push_under_way WHERE channel_id = %s AND kind = %s
            RETURNING extract(epoch FROM clock_timestamp() AT TIME ZONE 'UTC' - since)
            """,
            (channel.id, kind),
        )
        row = self.env.cr.fetchone()
        return float(row[0]) if row else None

    @api.model
    def _queue(self, kind, cause, product_ids=(), pricelist_ids=(), channel_moved_ids=(), channel_ids=()):
        """Queue a push of ``kind`` for listings of these products / pricelists / channels.

        ``channel_moved_ids`` are (channel id, product id) pairs whose listing the channel
        changed by itself: their shown quantity is forgotten when the request is drained.
        Only inserts into the request queue: no lock on listing rows, so stock
        operations never wait on a push in progress. Wakes the push cron after the
        commit when a real-time channel is concerned.
        """
        if kind == "stock" and product_ids:
            product_ids = self._stock_products(product_ids)
        if not product_ids and not pricelist_ids and not channel_ids:
            return
        moved = sorted({f"{channel_id}-{product_id}" for channel_id, product_id in channel_moved_ids})
        Channel = self.env["multichannel.channel"]
        self.env["multichannel.product.binding"].flush_model(["active", "channel_id", "product_id", f"{kind}_sync"])
        Channel.flush_model(["active", "pricelist_id", f"{kind}_schedule"])
        # by product through the listings' product index; a condition on either table
        # (product OR pricelist) would read every listing
        matching = SQL(" OR ").join(
            [
                *([SQL("b.product_id = ANY(%s)", list(product_ids))] if product_ids else []),
                *([SQL("c.pricelist_id = ANY(%s)", list(pricelist_ids))] if pricelist_ids else []),
                *([SQL("c.id = ANY(%s)", list(channel_ids))] if channel_ids else []),
            ]
        )
        # once per listing and kind per transaction: a row this transaction queued already
        # (at an earlier savepoint, say) is enough, unless this one also says the channel
        # moved the listing; a row rolled back with its savepoint is queued again
        self.env.cr.execute(
            SQL(
                """
                WITH requested AS (
                    SELECT b.id, (b.channel_id || '-' || b.product_id) = ANY(%(moved)s) AS moved,
                           %(schedule)s = 'realtime' AS realtime
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
                             WHERE r.binding_id = q.id AND r.kind = %(kind)s AND r.due_at IS NULL
                               AND r.transaction_id = txid_current() AND (r.channel_moved OR NOT q.moved))
                    RETURNING binding_id
                )
                SELECT coalesce(bool_or(q.realtime), false)
                  FROM inserted i
                  JOIN requested q ON q.id = i.binding_id
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
            Channel._wake_after_commit(kind)

    @api.model
    def _queue_prices_again(self, product_ids, cause):
        """Send these products' prices again wherever they are listed, whatever was sent:
        their taxes changed, so the same price in Odoo may be another price on a channel
        (the shop's price with tax, eMAG's net price and VAT)."""
        moved = self._listed_pairs([("product_id", "in", list(product_ids))])
        if moved:
            self._queue("price", cause, product_ids=sorted({p for _c, p in moved}), channel_moved_ids=moved)

    @api.model
    def _queue_prices_again_on(self, channels, cause):
        """Send every price of these channels again, whatever was sent (their taxes changed)."""
        moved = self._listed_pairs([("channel_id", "in", channels.ids)])
        if moved:
            self._queue("price", cause, channel_ids=channels.ids, channel_moved_ids=moved)

    @api.model
    def _listed_pairs(self, domain):
        """{(channel id, product id)} of the listings matching ``domain``."""
        rows = (
            self.env["multichannel.product.binding"].sudo().search_read(domain, ["channel_id", "product_id"], load=None)
        )
        return {(row["channel_id"], row["product_id"]) for row in rows}

    @api.model
    def _stock_products(self, product_ids):
        """The products whose listings a stock change of ``product_ids`` moves (a
        connector or kits add theirs)."""
        return product_ids

    @api.model
    def _queue_stock_changes(self, product_ids):
        """Queue the products whose stock moved and that a channel lists, once per product
        and transaction, and wake the stock push when one of their listings is in real
        time, after the commit: the listings' requests are made by the push
        (``_fan_out_stock_changes``), not by the stock operation's transaction, which
        neither reads nor writes the cron's wake-ups."""
        product_ids = self._stock_products(product_ids)
        if not product_ids:
            return
        Channel = self.env["multichannel.channel"]
        self.env["multichannel.product.binding"].flush_model(["active", "channel_id", "product_id", "stock_sync"])
        Channel.flush_model(["active", "stock_schedule"])
        self.env.cr.execute(
            SQL(
                """
                WITH listed AS (
                    SELECT b.product_id, bool_or(c.stock_schedule = 'realtime') AS realtime
                      FROM multichannel_product_binding b
                      JOIN multichannel_channel c ON c.id = b.channel_id
                     WHERE b.product_id = ANY(%(products)s) AND b.active AND b.stock_sync AND c.active
                     GROUP BY b.product_id
                ), inserted AS (
                    INSERT INTO multichannel_stock_change (transaction_id, product_id, requested_at)
                    SELECT txid_current(), product_id, clock_timestamp() AT TIME ZONE 'UTC' FROM listed
                        ON CONFLICT (transaction_id, product_id) DO NOTHING
                    RETURNING product_id
                )
                SELECT EXISTS (SELECT 1 FROM inserted JOIN listed USING (product_id) WHERE realtime)
                """,
                products=list(product_ids),
            )
        )
        if self.env.cr.fetchone()[0]:
            Channel._wake_after_commit("stock")

    @api.model
    def _queue_again_in(self, kind, binding_ids, seconds, cause):
        """Push ``kind`` of these listings again in ``seconds``, whatever the channel is
        thought to show then; returns when (no wake-up: the caller asks for one then).
        Due times are read off the database's clock, as Odoo's cron triggers are, so
        that servers whose clocks differ agree on them."""
        self.env.cr.execute(
            SQL(
                """
                WITH due AS (SELECT clock_timestamp() AT TIME ZONE 'UTC' + make_interval(secs => %(seconds)s) AS at)
                INSERT INTO multichannel_sync_request
                            (binding_id, kind, cause, requested_at, channel_moved, transaction_id, due_at)
                SELECT id, %(kind)s, %(cause)s, due.at, true, txid_current(), due.at
                  FROM unnest(%(ids)s::int[]) id, due
                RETURNING due_at
                """,
                kind=kind,
                cause=cause,
                seconds=seconds,
                ids=sorted(binding_ids),
            )
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _has_due_again(self, channel, kind):
        """Whether listings of ``channel`` queued by ``_queue_again_in`` are due for ``kind``."""
        self.flush_model()
        self.env.cr.execute(
            """
            SELECT EXISTS(SELECT 1 FROM multichannel_sync_request r
                            JOIN multichannel_product_binding b ON b.id = r.binding_id
                           WHERE b.channel_id = %s AND r.kind = %s
                             AND r.due_at <= clock_timestamp() AT TIME ZONE 'UTC')
            """,
            (channel.id, kind),
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _due_by(self):
        """The moment a run takes as now for the requests due later (the database's clock)."""
        self.env.cr.execute("SELECT clock_timestamp() AT TIME ZONE 'UTC'")
        return self.env.cr.fetchone()[0]

    @api.model
    def _fan_out_stock_changes(self):
        """Turn the products whose stock moved into a request for each of their listings.

        Takes only rows no other transaction is taking (a second server's push skips
        them rather than waits); rows of transactions not committed yet are not seen and
        wait for the next push, which their wake-up asks for. A product changed by
        several transactions is requested once, from its earliest change. Returns
        whether it skipped rows another push still going holds (rows committed since have
        wake-ups of their own)."""
        self.env["multichannel.product.binding"].flush_model(["active", "channel_id", "product_id", "stock_sync"])
        self.env["multichannel.channel"].flush_model(["active"])
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        """
                        WITH taken AS (
                            DELETE FROM multichannel_stock_change
                             WHERE ctid = ANY(ARRAY(
                                       SELECT ctid FROM multichannel_stock_change FOR UPDATE SKIP LOCKED))
                            RETURNING product_id, requested_at
                        ), products AS (
                            SELECT product_id, min(requested_at) AS requested_at FROM taken GROUP BY product_id
                        ), requested AS (
                            INSERT INTO multichannel_sync_request
                                        (binding_id, kind, cause, requested_at, channel_moved, transaction_id)
                            SELECT b.id, 'stock', %(cause)s, p.requested_at, false, txid_current()
                              FROM products p
                              JOIN multichannel_product_binding b ON b.product_id = p.product_id
                              JOIN multichannel_channel c ON c.id = b.channel_id
                             WHERE b.active AND b.stock_sync AND c.active
                        )
                        -- every part sees the rows as they were before the delete: the rest were skipped
                        SELECT (SELECT count(*) FROM multichannel_stock_change) > (SELECT count(*) FROM taken)
                        """,
                        cause=STOCK_CHANGE_CAUSE,
                    ),
                    log_exceptions=False,
                )
                return self.env.cr.fetchone()[0]
        except CONCURRENT_ERRORS:
            # a button's push (REPEATABLE READ) meeting rows another push took and committed
            # since its snapshot: that push asked for their listings
            return False

    @api.model
    def _queue_stock_at_commit(self, product_ids, moved_on_channel=None):
        """Collect products whose stock moved; queue them once, just before commit.

        ``moved_on_channel``: the channel whose own shown quantity of these products
        moved (one of its orders), so that its listings are re-sent whatever they show.
        Odoo runs the pre-commit hooks at every savepoint too: inside ``_holding_stock``
        they are collected until the block ends instead.
        """
        moved = {(moved_on_channel.id, p) for p in product_ids} if moved_on_channel else set()
        self._collect_stock(product_ids, moved)

    def _collect_stock(self, product_ids, moved):
        held = _HELD.get(self.env.cr)
        if held is not None:
            held["products"].update(product_ids)
            held["moved"].update(moved)
            return
        precommit = self.env.cr.precommit
        key = "multichannel.stock_products"
        if key not in precommit.data:
            precommit.data[key] = set()
            precommit.data["multichannel.channel_moved"] = set()
            precommit.add(self._queue_collected_stock)
        precommit.data[key].update(product_ids)
        precommit.data["multichannel.channel_moved"].update(moved)

    @contextmanager
    def _holding_stock(self):
        """Within the block, stock changes are collected through every savepoint (an
        imported order is stored, processed and closed in several) instead of being
        queued at each savepoint's flush; when the block ends they are queued in one
        statement, with whatever else this transaction collected so far (what a push
        that follows in the same transaction drains, as a savepoint would have queued
        it). What a savepoint rolled back may be queued all the same: a push that finds
        nothing changed sends nothing, while a change never queued would never be sent.
        A block failing hands them to the pre-commit hook only (no statement in a
        transaction that may be failed: a savepoint rolled back around it drops them
        with its changes). A block inside another adds to the outer one's."""
        cr = self.env.cr
        if cr in _HELD:
            yield
            return
        held = _HELD[cr] = {"products": set(), "moved": set()}
        try:
            yield
        except BaseException:
            del _HELD[cr]
            if held["products"]:
                self._collect_stock(held["products"], held["moved"])
            raise
        del _HELD[cr]
        if held["products"]:
            self._collect_stock(held["products"], held["moved"])
            self._queue_collected_stock()

    def _queue_collected_stock(self):
        product_ids = self.env.cr.precommit.data.pop("multichannel.stock_products", set())
        moved = self.env.cr.precommit.data.pop("multichannel.channel_moved", set())
        if moved:  # a channel's own orders: those listings are re-sent whatever they show
            self._queue("stock", STOCK_CHANGE_CAUSE, product_ids=sorted(product_ids), channel_moved_ids=moved)
        else:
            self._queue_stock_changes(sorted(product_ids))
        self.env.flush_all()

    @api.model
    def _drain(self, channel, kind, due_by=None):
        """Turn the queued requests of a channel into pending listings; those due after
        ``due_by`` (default: now, see ``_due_by``) wait for their time (``_queue_again_in``)."""
        if kind == "stock":
            self._fan_out_stock_changes()
        Binding = self.env["multichannel.product.binding"]
        Binding.flush_model()
        self.flush_model()
        self.env.cr.execute(
            """
            DELETE FROM multichannel_sync_request r
             USING multichannel_product_binding b
             WHERE b.id = r.binding_id AND b.channel_id = %s AND r.kind = %s
               AND (r.due_at IS NULL OR r.due_at <= %s)
            RETURNING r.binding_id, r.cause, r.requested_at, r.channel_moved
            """,
            (channel.id, kind, due_by or self._due_by()),
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
        Binding.browse(causes)._lock_in_order()
        self.env.cr.execute(
            SQL(
                """
                UPDATE multichannel_product_binding
                   SET %(pending)s = true,
                       %(cause)s = (%(causes)s::jsonb ->> id::text),
                       %(requested_at)s = LEAST(%(requested_at)s, (%(oldest)s::jsonb ->> id::text)::timestamp),
                       state = CASE WHEN state = 'error' THEN state ELSE 'pending' END,
                       -- what is sent for them changed, if not Odoo's target: a refusal is tried again
                       %(retry_at)s = CASE WHEN id = ANY(%(moved)s) THEN NULL ELSE %(retry_at)s END,
                       %(forget_shown)s
                 WHERE id = ANY(%(ids)s)
                """,
                pending=SQL.identifier(f"{kind}_pending"),
                cause=SQL.identifier(f"{kind}_cause"),
                requested_at=SQL.identifier(f"{kind}_requested_at"),
                retry_at=SQL.identifier(f"{kind}_retry_at"),
                moved=list(moved),
                causes=json.dumps({str(k): v for k, v in causes.items()}),
                oldest=json.dumps({str(k): v.isoformat() for k, v in oldest.items()}),
                # what the channel shows of the moved ones is not known: they are sent whatever it was
                forget_shown=(
                    SQL("stock_moved_by_channel = stock_moved_by_channel OR id = ANY(%s)", list(moved))
                    if kind == "stock"
                    else SQL("price_pushed_at = CASE WHEN id = ANY(%s) THEN NULL ELSE price_pushed_at END", list(moved))
                ),
                ids=list(causes),
            )
        )
        Binding.invalidate_model(
            [
                f"{kind}_pending",
                f"{kind}_cause",
                f"{kind}_requested_at",
                f"{kind}_retry_at",
                "state",
                "stock_moved_by_channel" if kind == "stock" else "price_pushed_at",
            ],
            flush=False,
        )
