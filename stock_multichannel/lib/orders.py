"""The normalised order: what a connector hands the core's order import engine.

Connectors translate their API's order into this shape; :func:`normalize_order`
checks it and returns a clean copy (numbers as floats, strings stripped) or raises
:class:`OrderDataError` listing every problem found, so a bad order can be stored
with a readable error instead of half-imported.

Shape (``?`` = optional)::

    external_id      the channel's order id (unique per channel)
    name?            the reference shown to people (defaults to external_id)
    status           "open" (import it), "pending" (hold: not paid yet, but counts
                     against stock), "cancelled", "closed" (done on the channel)
    date?            "YYYY-mm-dd HH:MM:SS", UTC: when the customer ordered
    modified?        "YYYY-mm-dd HH:MM:SS", UTC: the channel's last change of the order;
                     an update older than the one stored is ignored (a late webhook)
    acknowledged?    bool, whether the channel shows the order acknowledged by the seller
                     (None: the channel has no such step). Acknowledged is for good: a
                     read saying not acknowledged, of an order stored as acknowledged, is
                     older (in the same second as ``modified``) and is ignored
    currency         ISO code
    prices_include_tax?  bool, whether unit prices and amounts include tax
    raw?             the order exactly as the channel gave it (kept for status updates)
    customer         {name, email?, phone?, vat?, company?, is_company?, street?,
                      street2?, city?, zip?, state?, country_code?}
    shipping_address?  same keys as customer, when it differs from the billing one
    lines            [{external_id?, listing_external_id?, sku?, name?, quantity,
                       unit_price, tax_rate?}]   tax_rate in percent, None: the
                      product's own taxes (their rate, priced as the order prices:
                      a shop charging no tax sells at prices that hold it)
    shipping?        [{name?, amount, tax_rate?}]   tax_rate None: the highest of the lines'
    discounts?       [{name?, amount, tax_rate?}]   amount > 0 reduces the order
    total?           the channel's order total, checked against Odoo's
    payment_method?, note?
    refunds?         [{external_id, amount, reason?}] money the channel gave back (amount
                     > 0): a new one is told to the sale order's people (no credit note
                     is made by itself: which lines, and whether goods came back, is theirs)
    cancel_requested?  what the channel says of a customer's request to cancel the order
                     ('' when none): told to the sale order's people once
    unknown_status?  the channel's own status of a "pending" order when the connector
                     does not know it (a plugin's): the order is held and listed for a
                     human at once
    error?           set by the connector when it could not read the channel's order:
                     the order is stored with this error, for a human
"""

from datetime import datetime
from decimal import Decimal, InvalidOperation

from .messages import Message, translatable

_lt = translatable(__name__)

# no amount or quantity of a real order comes near this; beyond it a float loses cents
LARGEST_NUMBER = Decimal("1e12")
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f")

STATUSES = ("open", "pending", "cancelled", "closed")
ADDRESS_KEYS = (
    "name",
    "email",
    "phone",
    "vat",
    "company",
    "street",
    "street2",
    "city",
    "zip",
    "state",
    "country_code",
)


class OrderDataError(ValueError):
    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__(Message.join("; ", self.problems))


def _number(value, where, problems, minimum=None, strictly_positive=False, required=True):
    if value is None or value == "":
        if required:
            problems.append(_lt("%(where)s: missing", where=where))
        return None
    number = decimal_amount(value)
    if number is None:
        problems.append(_lt("%(where)s: not a number (%(value)r)", where=where, value=value))
        return None
    if abs(number) > LARGEST_NUMBER:
        problems.append(_lt("%(where)s: out of range (%(value)r)", where=where, value=value))
        return None
    if strictly_positive and number <= 0:
        problems.append(_lt("%(where)s: must be greater than 0 (%(value)r)", where=where, value=value))
    elif minimum is not None and number < minimum:
        problems.append(
            _lt("%(where)s: must be at least %(minimum)s (%(value)r)", where=where, minimum=minimum, value=value)
        )
    return float(number)


def _text(value):
    if value is None:
        return ""
    return without_nul(str(value)).strip()


def without_nul(value):
    """``value`` (any JSON) without NUL characters, which PostgreSQL refuses in text."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    return value


def _date(value, where, problems):
    """A UTC date as "YYYY-mm-dd HH:MM:SS", or "" when not given."""
    text = _text(value)
    if not text:
        return ""
    for date_format in DATE_FORMATS:
        try:
            return datetime.strptime(text.removesuffix("Z"), date_format).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            continue
    problems.append(_lt("%(where)s: not a date (%(value)r)", where=where, value=text[:40]))
    return ""


def _address(data, where, problems, name_required):
    if not isinstance(data, dict):
        problems.append(_lt("%(where)s: missing or not an object", where=where))
        return {}
    address = {key: _text(data.get(key)) for key in ADDRESS_KEYS}
    address["is_company"] = bool(data.get("is_company"))
    address["country_code"] = address["country_code"].upper()
    if name_required and not (address["name"] or address["company"]):
        problems.append(_lt("%(where)s: missing", where=f"{where}.name"))
    return address


def _amount_lines(items, where, problems):
    if items in (None, ""):
        return []
    if not isinstance(items, list):
        problems.append(_lt("%(where)s: not a list", where=where))
        return []
    clean = []
    for index, item in enumerate(items, 1):
        if not isinstance(item, dict):
            problems.append(_lt("%(where)s: not an object", where=f"{where}[{index}]"))
            continue
        clean.append(
            {
                "name": _text(item.get("name")),
                "amount": _number(item.get("amount"), f"{where}[{index}].amount", problems, minimum=0),
                "tax_rate": _number(
                    item.get("tax_rate"), f"{where}[{index}].tax_rate", problems, minimum=0, required=False
                ),
            }
        )
    return clean


def normalize_order(data):
    """Check a connector's order dict; return a clean copy or raise OrderDataError."""
    if not isinstance(data, dict):
        raise OrderDataError([_lt("%(where)s: not an object", where="order")])
    if data.get("error"):
        raise OrderDataError([_text(data["error"])])
    problems = []
    external_id = _text(data.get("external_id"))
    if not external_id:
        problems.append(_lt("%(where)s: missing", where="external_id"))
    status = _text(data.get("status"))
    if status not in STATUSES:
        problems.append(
            _lt("status: %(status)r is not one of %(statuses)s", status=status, statuses=", ".join(STATUSES))
        )
    currency = _text(data.get("currency")).upper()
    if not currency:
        problems.append(_lt("%(where)s: missing", where="currency"))
    lines = []
    raw_lines = data.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        problems.append(_lt("lines: an order needs at least one line"))
        raw_lines = []
    for index, line in enumerate(raw_lines, 1):
        where = f"lines[{index}]"
        if not isinstance(line, dict):
            problems.append(_lt("%(where)s: not an object", where=where))
            continue
        clean = {
            "external_id": _text(line.get("external_id")),
            "listing_external_id": _text(line.get("listing_external_id")),
            "sku": _text(line.get("sku")),
            "name": _text(line.get("name")),
            "quantity": _number(line.get("quantity"), f"{where}.quantity", problems, strictly_positive=True),
            "unit_price": _number(line.get("unit_price"), f"{where}.unit_price", problems, minimum=0),
            "tax_rate": _number(line.get("tax_rate"), f"{where}.tax_rate", problems, minimum=0, required=False),
        }
        if not (clean["listing_external_id"] or clean["sku"]):
            problems.append(_lt("%(where)s: neither a listing id nor a SKU to find the product", where=where))
        lines.append(clean)
    order = {
        "external_id": external_id,
        "name": _text(data.get("name")) or external_id,
        "status": status,
        "date": _date(data.get("date"), "date", problems),
        "modified": _date(data.get("modified"), "modified", problems),
        "currency": currency,
        # None: the order does not say; the channel's setting decides
        "prices_include_tax": None if data.get("prices_include_tax") is None else bool(data["prices_include_tax"]),
        "customer": _address(data.get("customer"), "customer", problems, name_required=True),
        "shipping_address": (
            _address(data["shipping_address"], "shipping_address", problems, name_required=False)
            if data.get("shipping_address")
            else None
        ),
        "lines": lines,
        "shipping": _amount_lines(data.get("shipping"), "shipping", problems),
        "discounts": _amount_lines(data.get("discounts"), "discounts", problems),
        "total": _number(data.get("total"), "total", problems, minimum=0, required=False),
        "payment_method": _text(data.get("payment_method")),
        "note": _text(data.get("note")),
        # what of the order moved the channel's stock besides its status (refunds restocking
        # units, say): when it changes, the order's listings are sent again
        "stock_marks": _text(data.get("stock_marks")),
        "unknown_status": _text(data.get("unknown_status")),
        "cancel_requested": _text(data.get("cancel_requested")),
        "refunds": _refunds(data.get("refunds")),
    }
    if problems:
        raise OrderDataError(problems)
    return order


def decimal_amount(value):
    """A channel's amount as a Decimal: 0 when absent (None or ""), None when it is no
    number ("12,50", "Infinity", a list). A connector hands such a value to the core as
    sent, which refuses the order naming the field: read as 0, an order would be booked
    without its shipping or discount, or a line at no price."""
    if value in (None, ""):
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        return None
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def readable_lines(data, since=None):
    """The lines of an order that failed its checks, as far as they can be read (a listing
    id or SKU, and a quantity): an order waiting to be fixed still holds the units it
    names, else every other channel would sell them meanwhile. None of a cancelled one,
    nor of one placed before ``since`` (the channel's history) as far as its date says,
    nor of one without an id: it can never be imported nor told apart from a second
    read of it, so the units it names would be held for good, once per read."""
    if not isinstance(data, dict) or data.get("status") in ("cancelled", "closed"):
        return []
    if not _text(data.get("external_id")):
        return []
    if since and data.get("date"):
        placed = _date(data.get("date"), "date", [])
        if placed and placed < since.strftime("%Y-%m-%d %H:%M:%S"):
            return []
    lines = []
    for line in data.get("lines") if isinstance(data.get("lines"), list) else []:
        if not isinstance(line, dict):
            continue
        quantity = _loose_number(line.get("quantity"))
        clean = {
            "listing_external_id": _text(line.get("listing_external_id")),
            "sku": _text(line.get("sku")),
            "quantity": quantity,
        }
        if quantity and quantity > 0 and (clean["listing_external_id"] or clean["sku"]):
            lines.append(clean)
    return lines


def _refunds(value):
    """The refunds as far as they can be read (they only inform people: never a reason to
    refuse the order)."""
    refunds = []
    for refund in value if isinstance(value, list) else []:
        if not isinstance(refund, dict) or not _text(refund.get("external_id")):
            continue
        amount = _loose_number(refund.get("amount"))
        refunds.append(
            {
                "external_id": _text(refund["external_id"]),
                "amount": abs(amount) if amount is not None else None,
                "reason": _text(refund.get("reason")),
            }
        )
    return refunds


def _loose_number(value):
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return float(number) if number.is_finite() and abs(number) <= LARGEST_NUMBER else None


def order_summary(data):
    """What an order says, for people: customer, date, total, currency and lines.

    Never raises, whatever the payload (an order stored with an error is shown too):
    what cannot be read is left empty. The total is the channel's own when it sent
    one, else the lines, shipping and discounts added up as sent.
    """
    data = data if isinstance(data, dict) else {}
    customer = data.get("customer") if isinstance(data.get("customer"), dict) else {}
    lines = []
    for line in data.get("lines") if isinstance(data.get("lines"), list) else []:
        if not isinstance(line, dict):
            continue
        lines.append(
            {
                "name": _text(line.get("name")) or _text(line.get("sku")) or _text(line.get("listing_external_id")),
                "reference": _text(line.get("sku")) or _text(line.get("listing_external_id")),
                "key": _text(line.get("listing_external_id")) or _text(line.get("sku")) or _text(line.get("name")),
                "quantity": _loose_number(line.get("quantity")),
                "unit_price": _loose_number(line.get("unit_price")),
            }
        )
    total = _loose_number(data.get("total"))
    if total is None and lines:
        amounts = [(line["quantity"] or 0) * (line["unit_price"] or 0) for line in lines]
        for key, sign in (("shipping", 1), ("discounts", -1)):
            items = data.get(key) if isinstance(data.get(key), list) else []
            amounts += [sign * (_loose_number(item.get("amount")) or 0) for item in items if isinstance(item, dict)]
        total = round(sum(amounts), 2)
    problems = []
    return {
        "customer": _text(customer.get("company") if customer.get("is_company") else customer.get("name"))
        or _text(customer.get("name"))
        or _text(customer.get("company")),
        "email": _text(customer.get("email")),
        "date": _date(data.get("date"), "date", problems),
        "currency": _text(data.get("currency")).upper()[:3],
        "total": total,
        "lines": lines,
    }


def content_difference(stored, incoming):
    """How ``incoming`` differs from ``stored`` as an order, not as an update of it.

    A channel updates an order's status, payment, address or modification date; it
    does not sell other products, to someone else, at another time under the same id
    (a reused id, or an order edited after it was imported). Returns the differences
    as readable text ("" when it is the same order).
    """
    differences = []
    old, new = order_summary(stored), order_summary(incoming)

    def products(summary):
        counted, names = {}, {}
        for line in summary["lines"]:
            counted[line["key"]] = counted.get(line["key"], 0) + (line["quantity"] or 0)
            names.setdefault(line["key"], line["name"] or line["key"])
        return counted, names

    def described(counted, names):
        return ", ".join(f"{quantity:g} × {names[key]}" for key, quantity in sorted(counted.items())) or _lt("none")

    (old_products, old_names), (new_products, new_names) = products(old), products(new)
    if old_products != new_products:
        differences.append(
            _lt(
                "products %(new)s instead of %(old)s",
                new=described(new_products, new_names),
                old=described(old_products, old_names),
            )
        )
    labels = {
        "customer": _lt("customer %(new)s instead of %(old)s"),
        "email": _lt("e-mail %(new)s instead of %(old)s"),
        "date": _lt("order date %(new)s instead of %(old)s"),
    }
    for key, label in labels.items():
        if old[key] and new[key] and old[key].lower() != new[key].lower():
            differences.append(Message(label.addon, label.template, {"new": new[key], "old": old[key]}))
    return Message.join("; ", differences) if differences else ""


def import_preview(orders, since, known=()):
    """What importing ``orders`` (normalised dicts, as fetched) would do, without doing it.

    ``since``: the channel's "import orders placed since" as "YYYY-mm-dd HH:MM:SS" UTC
    (older orders are its history, kept but never sold); ``known``: external ids Odoo
    already stores. Returns counts: read, known, history, settled (shipped, finalized or
    cancelled on the channel: never sold), held (not paid yet), new (imported as sales),
    unreadable.
    """
    counts = dict.fromkeys(("read", "known", "history", "settled", "held", "new", "unreadable"), 0)
    for data in orders:
        counts["read"] += 1
        external_id = _text(data.get("external_id")) if isinstance(data, dict) else ""
        if external_id and external_id in known:
            counts["known"] += 1
            continue
        try:
            order = normalize_order(data)
        except OrderDataError:
            counts["unreadable"] += 1
            continue
        if since and order["date"] and order["date"] < since:
            counts["history"] += 1
        elif order["status"] in ("cancelled", "closed"):
            counts["settled"] += 1
        elif order["status"] == "pending":
            counts["held"] += 1
        else:
            counts["new"] += 1
    return counts
