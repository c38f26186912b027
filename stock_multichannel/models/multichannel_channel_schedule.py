"""Each channel's schedules: when a run is due, when the next one comes, what a slow schedule costs."""

from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..const import LAST_RUN_FIELDS, SCHEDULE_MINUTES, SCHEDULED_KINDS


class MultichannelChannel(models.Model):
    _inherit = "multichannel.channel"

    next_stock_run = fields.Datetime("Next Stock Push", compute="_compute_next_runs")
    next_price_run = fields.Datetime("Next Price Push", compute="_compute_next_runs")
    next_order_run = fields.Datetime("Next Order Import", compute="_compute_next_runs")
    schedule_warning = fields.Text(compute="_compute_next_runs")

    @api.constrains(
        "stock_schedule", "stock_interval", "price_schedule", "price_interval", "order_schedule", "order_interval"
    )
    def _check_intervals(self):
        for channel in self:
            for kind in SCHEDULED_KINDS:
                if channel[f"{kind}_schedule"] == "custom" and channel[f"{kind}_interval"] < 1:
                    raise ValidationError(self.env._("An interval is at least one minute."))

    @api.depends(
        "stock_schedule",
        "stock_interval",
        "price_schedule",
        "price_interval",
        "order_schedule",
        "order_interval",
        "stock_pushed_at",
        "price_pushed_at",
        "order_imported_at",
    )
    def _compute_next_runs(self):
        now = fields.Datetime.now()
        for channel in self:
            for kind in SCHEDULED_KINDS:
                channel[f"next_{kind}_run"] = channel._next_run(kind, now)
            channel.schedule_warning = channel._schedule_warning()

    def _next_run(self, kind, now):
        """When the ``kind`` run is due next (False: off, or within seconds of a change in real time)."""
        minutes = self._schedule_minutes(kind)
        if not minutes:
            return self[f"{kind}_retry_at"] or False
        last = self[LAST_RUN_FIELDS[kind]]
        due = max(now, last + timedelta(minutes=minutes)) if last else now
        return max(due, self[f"{kind}_retry_at"] or due)

    def _schedule_minutes(self, kind):
        """Minutes between two ``kind`` runs: 0 in real time, None when off."""
        mode = self[f"{kind}_schedule"]
        if mode == "off":
            return None
        if mode == "realtime":
            return 0
        return self[f"{kind}_interval"] if mode == "custom" else SCHEDULE_MINUTES[mode]

    def _schedule_warning(self):
        """What a slower schedule costs, in words: the window in which the same units sell twice."""
        minutes = {kind: self._schedule_minutes(kind) for kind in ("stock", "order")}
        warnings = []
        if minutes["stock"] is None:
            warnings.append(self.env._("Stock is never sent to this channel: it keeps showing what it last received."))
        elif minutes["stock"]:
            warnings.append(
                self.env._(
                    "Stock is sent every %(minutes)s minutes: after a sale elsewhere this channel may keep selling "
                    "units that are gone for up to %(minutes)s minutes. Real time closes that window.",
                    minutes=minutes["stock"],
                )
            )
        if minutes["order"] is None:
            warnings.append(
                self.env._("Orders are not imported from this channel: its sales never reach the other channels.")
            )
        elif minutes["order"]:
            warnings.append(
                self.env._(
                    "Orders are read every %(minutes)s minutes (sooner through the channel's webhooks or callbacks "
                    "when they are set up): what sells here may reach the other channels up to %(minutes)s minutes "
                    "later, and they may sell the same units meanwhile.",
                    minutes=minutes["order"],
                )
            )
        return "\n".join(warnings) or False

    def _is_due(self, kind):
        self.ensure_one()
        minutes = self._schedule_minutes(kind)
        if minutes is None:
            return False
        if self[f"{kind}_retry_at"] and self[f"{kind}_retry_at"] > fields.Datetime.now():
            return False  # backing off after a temporary fault; the cron is triggered for then
        if not minutes:
            return True
        last = self[LAST_RUN_FIELDS[kind]]
        if not last or fields.Datetime.now() >= last + timedelta(minutes=minutes) - timedelta(seconds=5):
            return True
        # listings to push again once a call that got no answer can no longer arrive: what
        # the channel shows may be wrong until then, so they do not wait for the schedule
        return kind in ("stock", "price") and self.env["multichannel.sync.request"]._has_due_again(self, kind)
