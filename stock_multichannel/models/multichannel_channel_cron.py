"""The scheduled jobs: each channel's run isolated and within a time budget; real-time wake-ups."""

import logging
import time
from functools import partial

from odoo import api, fields, models
from odoo.tools import SQL

from ..const import CRON_BUDGET_SECONDS, CRONS
from ..lib.cron_wakeup import notify_cron_workers
from ..lib.messages import translated
from ..lib.transactions import CONCURRENT_ERRORS, read_committed

_logger = logging.getLogger(__name__)


class MultichannelChannel(models.Model):
    _inherit = "multichannel.channel"

    def init(self):
        result = super().init()
        # when each cron's run last took its wake-ups (see _consume_wakeups)
        self.env.cr.execute(
            """
            CREATE TABLE IF NOT EXISTS multichannel_cron_wakeup (
                cron_id integer PRIMARY KEY REFERENCES ir_cron(id) ON DELETE CASCADE,
                taken_at timestamp NOT NULL
            )
            """
        )
        return result

    @api.model
    def _cron_channels(self, kind):
        """Active channels whose connector is installed and whose ``kind`` run is due."""
        self._consume_wakeups(kind)
        channels = self.search([("channel_type", "in", self._connected_types())])
        return channels.filtered(lambda c: c._is_due(kind))

    @api.model
    def _cron_push_stock(self):
        self._cron_channels("stock")._run_isolated("stock", lambda channel: channel._push("stock", auto_commit=True))

    @api.model
    def _cron_push_prices(self):
        self._cron_channels("price")._run_isolated("price", lambda channel: channel._push("price", auto_commit=True))

    @api.model
    def _cron_import_orders(self):
        self._cron_channels("order")._run_isolated("order", lambda channel: channel._import_orders(auto_commit=True))

    def _run_isolated(self, kind, work):
        """A cron's ``work`` on each channel on its own, within the cron's time budget.

        One channel's fault is noted on that channel and the next one goes on; a
        concurrent update by another worker is routine and retried at the next run;
        what the budget leaves undone is handed to the next run at once.
        """
        channels = self.with_context(
            multichannel_cron=True, multichannel_deadline=time.monotonic() + CRON_BUDGET_SECONDS
        )
        done = 0
        with read_committed(self.env.cr):
            for channel in channels:
                if channel._over_budget():
                    break
                try:
                    work(channel)
                except CONCURRENT_ERRORS:
                    self.env.cr.rollback()
                    _logger.info("%s: %s run met a concurrent update; it goes on at the next run", channel.name, kind)
                    channel._trigger_realtime(kind)
                except Exception as error:  # noqa: BLE001 - one channel's fault never stops the others
                    self.env.cr.rollback()
                    _logger.warning("%s: %s run failed", channel.name, kind, exc_info=True)
                    channel._note_error(
                        self.env._(
                            "%(kind)s run failed: %(error)s",
                            kind=channel._kind_label(kind),
                            error=translated(self.env, error),
                        )
                    )
                self.env.cr.commit()  # pylint: disable=invalid-commit
                done += 1
        if done < len(channels):
            channels[done]._trigger_realtime(kind)
        self.env["ir.cron"]._notify_progress(done=done, remaining=len(channels) - done)

    def _over_budget(self):
        deadline = self.env.context.get("multichannel_deadline")
        return bool(deadline) and time.monotonic() >= deadline

    @api.model
    def _cron_send_order_statuses(self):
        self._consume_wakeups("status")
        with read_committed(self.env.cr):
            self.env["multichannel.order"].with_context(
                multichannel_cron=True, multichannel_deadline=time.monotonic() + CRON_BUDGET_SECONDS
            )._send_statuses(auto_commit=True)

    @api.model
    def _cron_recheck_prices(self):
        """Prices that change with time alone — a pricelist rule that starts or ends, a new
        currency rate — come without any write to notice: every listing is queued once a
        day, and the price push sends only those whose price really moved."""
        pricelists = self.search([("channel_type", "in", self._connected_types())]).pricelist_id
        self.env["multichannel.sync.request"]._queue("price", "daily price check", pricelist_ids=pricelists.ids)

    @api.model
    def _cron_clean_ledger(self):
        self.env["multichannel.ledger"]._clean_up()

    @api.model
    def _cron_xmlid(self, kind):
        """The cron doing ``kind``'s work, woken by ``_trigger_realtime`` (a connector adds its own)."""
        return CRONS[kind]

    @api.model
    def _trigger_realtime(self, kind):
        """Wake the ``kind`` cron now instead of at its next tick, unless a wake-up is pending.

        A wake-up is pending when a trigger of the cron is due and not consumed yet: one
        asked for earlier in this transaction (savepoints or not), or by another
        transaction, committed and not yet taken by a run (``_consume_wakeups``). That
        trigger is locked (key share) until this transaction ends, so a run cannot take
        it, drain the queue and miss what this transaction commits; one being taken
        (locked by the run) is skipped and a new one asked for. The cron workers are
        notified once per transaction, after the commit, on a kept connection.
        """
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id(self._cron_xmlid(kind), raise_if_not_found=False)
        if not cron_id:
            return
        cr = self.env.cr
        # one statement: the pending wake-up looked for (and locked), else a trigger of the
        # active cron inserted, due at this moment to the microsecond: later than the start
        # of a run in progress, whose end deletes the triggers due before it started
        # (ir.cron._reschedule_later)
        cr.execute(
            SQL(
                """
                WITH pending AS (
                    SELECT t.id FROM ir_cron_trigger t
                     WHERE t.cron_id = %(cron)s AND t.call_at <= clock_timestamp() AT TIME ZONE 'UTC'
                       AND t.call_at > COALESCE(
                           (SELECT taken_at FROM multichannel_cron_wakeup WHERE cron_id = %(cron)s), '-infinity'
                       )
                     LIMIT 1
                       FOR KEY SHARE SKIP LOCKED
                )
                INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, write_uid, create_date, write_date)
                SELECT c.id, clock_timestamp() AT TIME ZONE 'UTC', %(uid)s, %(uid)s,
                       now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
                  FROM ir_cron c
                 WHERE c.id = %(cron)s AND c.active AND NOT EXISTS (SELECT 1 FROM pending)
                RETURNING id
                """,
                cron=cron_id,
                uid=self.env.uid,
            )
        )
        if not cr.rowcount:
            return
        if "multichannel.notify" not in cr.postcommit.data:
            cr.postcommit.data["multichannel.notify"] = True
            cr.postcommit.add(partial(notify_cron_workers, cr.dbname))

    @api.model
    def _wake_at(self, kind, at):
        """Wake the ``kind`` cron at ``at``: now through ``_trigger_realtime`` when it is due
        already, else with a trigger of Odoo's for then (a future trigger notifies nobody)."""
        if at and at > fields.Datetime.now():
            cron = self.env.ref(self._cron_xmlid(kind), raise_if_not_found=False)
            if cron:
                cron.sudo()._trigger(at)
        else:
            self._trigger_realtime(kind)

    @api.model
    def _consume_wakeups(self, kind):
        """A run of the ``kind`` cron starts: the wake-ups asked for until now are taken.

        Run before the queue is drained, so whatever a transaction commits after this
        point asks for (and gets) a new wake-up; a transaction still holding a pending
        trigger (see ``_trigger_realtime``) is waited for, and its requests drained: the
        crons commit before they drain (``read_committed``), so the drain sees them.

        The triggers themselves are left to Odoo, whose scheduler deletes those due
        before the run started once the run ends: deleting them here as well made its
        delete fail ("could not serialize access due to concurrent delete"). Locking
        them only waits for their holders; the moment they were taken is kept instead.
        """
        cron = self.env.ref(self._cron_xmlid(kind), raise_if_not_found=False)
        if not cron:
            return
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        """
                        SELECT id FROM ir_cron_trigger
                         WHERE cron_id = %(cron)s AND call_at <= clock_timestamp() AT TIME ZONE 'UTC'
                           FOR UPDATE
                        """,
                        cron=cron.id,
                    ),
                    log_exceptions=False,
                )
        except CONCURRENT_ERRORS:
            _logger.info("%s wake-ups taken by another run at the same moment", kind)
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO multichannel_cron_wakeup (cron_id, taken_at)
                VALUES (%(cron)s, clock_timestamp() AT TIME ZONE 'UTC')
                ON CONFLICT (cron_id) DO UPDATE SET taken_at = EXCLUDED.taken_at
                """,
                cron=cron.id,
            )
        )
