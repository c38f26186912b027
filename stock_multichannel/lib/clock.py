"""Now, as Odoo stores dates (naive UTC), to the microsecond: ``fields.Datetime.now()``
cuts them, which a retry due in a second and a ledger's order of rows need."""

from datetime import datetime, timezone


def utc_now():
    return datetime.now(timezone.utc).replace(tzinfo=None)
