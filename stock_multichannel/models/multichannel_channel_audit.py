import logging
import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import float_compare, float_round

from ..lib.adapter import CALL_ERRORS, as_channel_error
from ..lib.messages import translated
from ..lib.transactions import read_committed

_logger = logging.getLogger(__name__)

AUDIT_BUDGET_PARAM = "stock_multichannel.audit_budget_seconds"
AUDIT_BUDGET_DEFAULT = 60


class MultichannelChannel(models.Model):
    """The drift audit: read back what each channel shows and re-send what differs.

    Pushes send only what changed, so a quantity edited by hand on the channel, or an
    update the channel lost, would stay wrong. The audit reads the channel's listings
    page by page within a time budget per run, compares them with Odoo's targets,
    records each drift in the ledger and queues only those listings; a run that runs
    out of time resumes at the next page.
    """

    _inherit = "multichannel.channel"

    audit_cursor = fields.Char(readonly=True, copy=False, help="Where the running audit resumes on the channel.")
    audit_started_at = fields.Datetime("Audit Started", readonly=True, copy=False)
    audit_finished_at = fields.Datetime("Last Audit", readonly=True, copy=False)
    audit_read_count = fields.Integer("Listings Read", readonly=True, copy=False)
    audit_drift_count = fields.Integer("Drift Found", readonly=True, copy=False)
    audit_fixed_count = fields.Integer(
        "Drift Fixed", compute="_compute_audit_fixed", help="Drifted listings the channel shows right again."
    )

    def _compute_audit_fixed(self):
        Binding = self.env["multichannel.product.binding"].sudo()  # a count, as the channel's others
        fixed = dict(
            Binding._read_group(
                [("channel_id", "in", self.ids), ("drift_found_at", "!=", False), ("drift_fixed", "=", True)],
                ["channel_id"],
                ["__count"],
            )
        )
        for channel in self:
            channel.audit_fixed_count = fixed.get(channel, 0)

    def _audit(self, budget_seconds, auto_commit=False):
        """Audit these channels, each as far as the shared time budget goes.

        Returns the channels whose audit ran out of time (not those that failed: they
        resume at the next daily run).
        """
        deadline = time.monotonic() + budget_seconds
        unfinished = self.browse()
        for channel in self:
            if not channel._try_lock("audit"):
                continue  # another worker audits it now
            try:
                finished = channel._audit_pages(deadline, auto_commit)
            except CALL_ERRORS as error:
                # resumed at the next daily run, not retried at once
                error = as_channel_error(error)
                channel._note_error(self.env._("Comparing with the channel failed: %s", translated(self.env, error)))
                finished = True
            channel._commit(auto_commit)
            if not finished:
                unfinished |= channel
        return unfinished

    def _audit_pages(self, deadline, auto_commit):
        """Read pages until the end of the channel's listings or the deadline; True at the end."""
        self.ensure_one()
        adapter = self._get_adapter()
        channel = self.sudo()
        if not channel.audit_cursor:
            channel.write({"audit_started_at": fields.Datetime.now(), "audit_read_count": 0, "audit_drift_count": 0})
        if adapter.lowers_stock_on_order:
            self._import_orders(auto_commit)  # a sale Odoo has not seen yet is no drift
        while True:
            page = self._call(adapter.read_shown, channel.audit_cursor or None)
            drifted = self._compare_shown(page.items, adapter)
            channel.write(
                {
                    "audit_cursor": page.cursor or False,
                    "audit_read_count": channel.audit_read_count + len(page.items),
                    "audit_drift_count": channel.audit_drift_count + drifted,
                }
            )
            if not page.cursor:
                channel.audit_finished_at = fields.Datetime.now()
                return True
            self._commit(auto_commit)
            if auto_commit and not self._try_lock("audit"):
                return False
            if time.monotonic() >= deadline:
                return False

    @staticmethod
    def _shown_price_differs(shown, expected, rounding):
        """To the currency's cent, or to 4 decimals where the channel is sent a price finer
        than the cent (a net price a shop adds the tax back to: 84.03 for 84.0252 would
        make its customers pay a cent more)."""
        if float_compare(expected, float_round(expected, precision_rounding=rounding), precision_digits=6):
            return float_compare(shown, expected, precision_digits=4) != 0
        return float_compare(shown, expected, precision_rounding=rounding) != 0

    @staticmethod
    def _shown_quantity_label(item):
        """What the ledger says the channel showed (the ledger stays in English)."""
        if item.quantity is None:
            return "no stock kept"
        return f"{item.quantity} (backorders allowed)" if item.unlimited else item.quantity

    def _compare_shown(self, items, adapter):
        """Compare what the channel shows with Odoo's targets; queue and record what differs.

        Prices are compared in the channel's own terms (``adapter.price_as_shown``: with
        or without tax). Returns the number of listings that drifted.
        """
        self.ensure_one()
        shown = {str(item.external_id): item for item in items}
        listings = (
            self.env["multichannel.product.binding"]
            .sudo()
            .search([("channel_id", "=", self.id), ("external_id", "in", list(shown))])
        )
        if not listings:
            return 0
        # before the targets: how the channel keeps a listing's stock decides its target
        keeping = self._follow_shown_stock_keeping(listings, shown)
        quantities = self._shown_stock_targets(listings.filtered("stock_sync"))
        # only where the channel shows a price (a read-back may carry none)
        # nor for a listing whose price is refused: it is sent again within the hour anyway
        # (a daily drift of what the channel refuses would only say it again)
        price_listings = listings.filtered(
            lambda b: b.price_sync and not b._refused_for("price") and shown[b.external_id].price is not None
        )
        prices = {}
        if price_listings:
            extras = price_listings._extras("price")
            prices = {
                listing_id: adapter.price_as_shown(price, extras[listing_id])
                for listing_id, price in self._price_targets(price_listings).items()
            }
        rounding = self.pricelist_id.currency_id.rounding
        now = fields.Datetime.now()
        drifted = listings.browse()
        ledger = []
        for listing in listings:
            item = shown[listing.external_id]
            drift = {}
            if listing.id in keeping and listing.stock_sync:
                drift["stock keeping"] = keeping[listing.id]
            # a channel keeping no quantity, or selling past it, sells what Odoo does not have
            # (another quantity than the target is no drift for a refused one: the channel
            # shows what it kept)
            if listing.stock_sync and (
                item.quantity is None
                or item.unlimited
                or (item.quantity != quantities[listing.id] and not listing._refused_for("stock"))
            ):
                drift["stock"] = (quantities[listing.id], self._shown_quantity_label(item))
            if prices.get(listing.id) is not None and self._shown_price_differs(
                item.price, prices[listing.id], rounding
            ):
                drift["price"] = (prices[listing.id], item.price)
            if not drift:
                continue
            drifted |= listing
            refused = listing._refused_for("stock") or listing._refused_for("price")
            values = {"drift_found_at": now, "drift_fixed": False, "state": "error" if refused else "pending"}
            if "stock" in drift or "stock keeping" in drift:
                values.update(stock_pending=True, stock_moved_by_channel=True, stock_cause="audit")
            if "price" in drift:
                # the channel's price differs from what was sent: forget it, so it is sent again
                values.update(price_pending=True, price_pushed_at=False, price_cause="audit")
            listing.write(values)
            for kind, (expected, found) in drift.items():
                answer = (
                    self.env._(
                        "How the channel keeps the stock changed: %(old)s, now %(new)s.", old=expected, new=found
                    )
                    if kind == "stock keeping"
                    else self.env._(
                        "%(kind)s: the channel shows %(found)s, Odoo expects %(expected)s.",
                        kind=self._kind_label(kind),
                        found=found,
                        expected=expected,
                    )
                )
                ledger.append(
                    {
                        "channel_id": self.id,
                        "kind": "drift",
                        "binding_id": listing.id,
                        "product_id": listing.product_id.id,
                        "old_value": str(expected),
                        "new_value": str(found),
                        "cause": "audit",
                        "result": "ok",
                        "answer": answer,
                    }
                )
        if ledger:
            self.env["multichannel.ledger"].sudo().create(ledger)
            for kind in ("stock", "price"):
                if self[f"{kind}_schedule"] == "realtime":
                    self._trigger_realtime(kind)
        return len(drifted)

    def _follow_shown_stock_keeping(self, listings, shown):
        """Record how the channel now keeps the stock of ``listings`` where its read-back
        (``shown``: {external id: ShownItem}) says it changed, so that the targets and the
        next push follow it (a connector's): {listing id: (as recorded, as shown)}."""
        return {}

    def action_audit(self):
        """Compare with the channel now, as far as a short budget goes; the cron finishes it."""
        self._check_operator_rights()
        with self._noting_busy() as busy:
            unfinished = self._audit(budget_seconds=20)
        if unfinished:
            self._trigger_realtime("audit")
        skipped = self._busy_message(busy, {"audit"})
        if skipped:
            return self._notify(skipped, kind="warning")
        if unfinished:
            return self._notify(
                self.env._(
                    "%(read)s listings compared so far, %(drift)s differ; the rest is compared in the background.",
                    read=sum(self.mapped("audit_read_count")),
                    drift=sum(self.mapped("audit_drift_count")),
                ),
                kind="warning" if any(self.mapped("last_error")) else "info",
            )
        return self._notify(
            self.env._(
                "%(read)s listings compared, %(drift)s differed and are being sent again.",
                read=sum(self.mapped("audit_read_count")),
                drift=sum(self.mapped("audit_drift_count")),
            )
        )

    @api.model
    def _cron_audit(self):
        """Daily, and until every channel's audit is finished: resumes where the last run stopped."""
        self._consume_wakeups("audit", auto_commit=True)
        channels = self.search([("channel_type", "in", self._connected_types())])
        recently = fields.Datetime.now() - timedelta(hours=20)
        due = channels.filtered(lambda c: c.audit_cursor or not c.audit_finished_at or c.audit_finished_at <= recently)
        budget = int(self.env["ir.config_parameter"].sudo().get_param(AUDIT_BUDGET_PARAM, AUDIT_BUDGET_DEFAULT))
        with read_committed(self.env.cr):
            unfinished = due._audit(budget, auto_commit=True)
        self.env["ir.cron"]._notify_progress(done=len(due - unfinished), remaining=len(unfinished))
        if unfinished:
            self._trigger_realtime("audit")
