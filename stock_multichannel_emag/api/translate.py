"""Translations between the core's plain data and eMAG's payloads. Pure functions."""

import math
import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from odoo.addons.stock_multichannel.lib.orders import decimal_amount

from ..const import CANCEL_REASONS

MAX_STOCK = 65535
STATUS_NAMES = {0: "canceled", 1: "new", 2: "in progress", 3: "prepared", 4: "finalized", 5: "returned"}
# eMAG status -> the core's normalised order status. Finalized (4) is set by eMAG itself
# when the seller issues the AWB in eMAG's screens: the units left the seller's shelf, so
# an order Odoo first sees finalized is still a sale to import ("open"); only a returned
# one (5) gave its units back: not imported, and an imported one is followed as a
# cancellation (the sale order cancelled if Odoo never shipped it, else a return to
# handle), as the shop's refunded orders are
CORE_STATUS = {0: "cancelled", 1: "open", 2: "open", 3: "open", 4: "open", 5: "cancelled"}
PAYMENT_MODES = {1: "cash on delivery", 2: "bank transfer", 3: "card"}
NEW, FINALIZED, CANCELED = 1, 4, 0
ACKNOWLEDGED = (2, 3, 4, 5)  # in progress and after: the seller took the order
# order types: 3 fulfilled by the seller (the merchant ships it: imported), 2 fulfilled
# by eMAG from eMAG's own warehouse (never imported: the merchant's stock is not involved)
FULFILLED_BY_SELLER, FULFILLED_BY_EMAG = 3, 2
DATE = "%Y-%m-%d %H:%M:%S"
INVOICE_ATTACHMENT = 1  # order/attachments/save type eMAG counts as the order's invoice


def money(value, places="0.0001"):
    return float(Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP))


def offer_id(external_id):
    """eMAG offer ids are integers 1..16,777,215; None when ``external_id`` is not one."""
    try:
        value = int(str(external_id).strip())
    except (TypeError, ValueError):
        return None
    return value if 0 < value < 2**24 else None


def clamp_stock(quantity):
    return max(0, min(MAX_STOCK, int(quantity)))


def stock_item(offer, quantity, warehouse_id):
    return {"id": offer, "stock": [{"warehouse_id": warehouse_id, "value": clamp_stock(quantity)}]}


def without_vat(price, vat_rate, price_includes_vat):
    """eMAG prices exclude VAT (``vat_rate`` in percent)."""
    if price_includes_vat:
        return money(Decimal(str(price)) / (1 + Decimal(str(vat_rate)) / 100))
    return money(price)


def price_item(offer, sale_price, regular_price, min_percent, max_percent):
    """``offer/save`` price fields: sale price within a min/max band, recommended when higher."""
    item = {
        "id": offer,
        "sale_price": money(sale_price),
        "min_sale_price": money(Decimal(str(sale_price)) * (1 - Decimal(str(min_percent)) / 100)),
        "max_sale_price": money(Decimal(str(sale_price)) * (1 + Decimal(str(max_percent)) / 100)),
    }
    if regular_price and money(regular_price) > item["sale_price"]:
        item["recommended_price"] = money(regular_price)
        item["max_sale_price"] = max(item["max_sale_price"], item["recommended_price"])
    return item


# a free-text message names an offer only in these words ("Offer 243409 ...", "offer id: 243409")
OFFER_IN_TEXT = re.compile(r"\boffer(?:[ _]?id)?\s*[#:=]?\s*(\d+)", re.IGNORECASE)
ID_KEYS = ("id", "offer_id")


def _named_id(record):
    for key in ID_KEYS:
        value = record.get(key)
        if value not in (None, "", True, False):
            try:
                return int(str(value).strip())
            except ValueError:
                return None
    return None


def refused_items(raw_messages, offer_ids, results=None):
    """Read which offers a successful save answer refuses, from the ids it really names.

    Returns ``({offer id: message}, [messages naming no offer of the batch])``.

    - item-level results (a list of objects with an ``id`` and ``isError``), when eMAG
      gives them: an item with ``isError`` is refused with its own messages;
    - message objects ``{"id": 243409, "message": "..."}`` name their offer;
    - a free-text message names an offer only as "offer <id>" / "offer id <id>";
      any other number in it (a warehouse, a price, a campaign) is never taken for one.

    A message that names no offer of the batch is returned apart: the caller cannot
    tell which offers it concerns, so it must not report them saved.
    """
    wanted = set(offer_ids)
    refused, unattributed = {}, []

    def refuse(offer, text):
        refused[offer] = f"{refused[offer]}; {text}" if offer in refused else text

    for result in results if isinstance(results, list) else []:
        if isinstance(result, dict) and result.get("isError") and _named_id(result) in wanted:
            texts = result.get("messages") or ["refused"]
            texts = texts if isinstance(texts, list) else [texts]
            refuse(_named_id(result), "; ".join(_message(t) for t in texts))
    for message in raw_messages or []:
        if isinstance(message, dict):
            offer = _named_id(message)
            if offer in wanted:
                refuse(offer, _message(message.get("message") or message.get("text") or message))
            else:
                unattributed.append(_message(message))
            continue
        text = _message(message)
        named = {int(n) for n in OFFER_IN_TEXT.findall(text)} & wanted
        for offer in sorted(named):
            refuse(offer, text)
        if not named:
            unattributed.append(text)
    return refused, unattributed


def _message(value):
    if isinstance(value, dict):
        text = value.get("message") or value.get("text") or ""
        return f"{value['id']}: {text}" if value.get("id") is not None and text else text or str(value)
    return str(value)


def _text(value):
    return "" if value is None else str(value).strip()


def _address(customer, prefix, name_key):
    return {
        "name": _text(customer.get(name_key)) or _text(customer.get("name")),
        "phone": _text(customer.get(f"{prefix}_phone")) or _text(customer.get("phone_1")),
        "street": _text(customer.get(f"{prefix}_street")),
        "city": _text(customer.get(f"{prefix}_city")),
        "zip": _text(customer.get(f"{prefix}_postal_code")),
        "state": _text(customer.get(f"{prefix}_suburb")),
        "country_code": _text(customer.get(f"{prefix}_country")),
    }


def order_type(order):
    """The order's type; eMAG's default (3, fulfilled by the seller) when it says none."""
    try:
        return int(order.get("type", FULFILLED_BY_SELLER))
    except (TypeError, ValueError):
        return None


def is_seller_fulfilled(order):
    return isinstance(order, dict) and order_type(order) == FULFILLED_BY_SELLER


def utc_date(local_text, timezone):
    """eMAG's dates are the platform's local time without a zone: as UTC text.

    "" when eMAG gives none; an unreadable date is returned as it came, for the core to
    refuse with its reason (an order with a date nobody can read is never imported as of now).
    """
    text = _text(local_text)
    try:
        local = datetime.strptime(text, DATE)
    except ValueError:
        return text
    return local.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC).strftime(DATE)


def order_status(order):
    try:
        return int(order.get("status"))
    except (TypeError, ValueError):
        return None


def normalize_order(order, currency, default_vat_rate, timezone="Europe/Bucharest"):
    """An eMAG order as the core's normalised order (see stock_multichannel.lib.orders).

    Unit prices come without VAT; the shipping fee includes it. Lines with status 0
    were removed from the order and are left out. The total is the channel's own
    arithmetic (lines + VAT, shipping, vouchers), checked against Odoo's.
    """
    if not isinstance(order, dict):
        return {"external_id": "", "raw": order}
    customer = order.get("customer") if isinstance(order.get("customer"), dict) else {}
    is_company = str(customer.get("legal_entity") or "0") == "1" or bool(_text(customer.get("company")))
    billing = _address(customer, "billing", "billing_name")
    billing.update(
        email=_text(customer.get("email")),
        vat=_text(customer.get("code")),
        company=_text(customer.get("company")),
        is_company=is_company,
    )
    lines, total, rates = [], Decimal(0), []
    for line in order.get("products") or []:
        if not isinstance(line, dict) or str(line.get("status", 1)) == "0":
            continue
        rate = _rate(line.get("vat"))
        rates.append(rate)
        lines.append(
            {
                "external_id": _text(line.get("id")),
                "listing_external_id": _text(line.get("product_id")),
                "sku": _text(line.get("ext_part_number")) or _text(line.get("part_number")),
                "name": _text(line.get("name")),
                "quantity": line.get("quantity"),
                "unit_price": line.get("sale_price"),
                "tax_rate": rate,
            }
        )
        total += _product(line.get("quantity"), line.get("sale_price"), rate)
    # eMAG gives the fee with its VAT but not the rate: the highest of the lines', as the core
    # takes it for a channel that does not say (a book at 11% first keeps the fee at 21%)
    # (a rate that is no number is the core's to refuse, naming it)
    numbers = [rate for rate in rates if isinstance(rate, float) and math.isfinite(rate)]
    shipping_rate = max(numbers, default=default_vat_rate)
    shipping = []
    # an amount that is no number goes to the core as sent, which refuses the order naming
    # it: read as 0, the order was booked without it, and its total computed here agreed
    readable = True
    shipping_with_vat = decimal_amount(order.get("shipping_tax"))
    if shipping_with_vat is None:
        readable = False
        shipping.append({"name": "eMAG shipping", "tax_rate": shipping_rate, "amount": order.get("shipping_tax")})
    elif shipping_with_vat:
        shipping.append(
            {
                "name": "eMAG shipping",
                "tax_rate": shipping_rate,
                "amount": money(shipping_with_vat / (1 + Decimal(str(shipping_rate)) / 100)),
            }
        )
        total += shipping_with_vat
    discounts = []
    for voucher in order.get("vouchers") or []:
        if not isinstance(voucher, dict):
            continue
        sale_price, vat = decimal_amount(voucher.get("sale_price")), decimal_amount(voucher.get("sale_price_vat"))
        name = _text(voucher.get("voucher_name")) or "eMAG voucher"
        if sale_price is None or vat is None:
            readable = False
            unread = voucher.get("sale_price") if sale_price is None else voucher.get("sale_price_vat")
            discounts.append({"name": name, "amount": unread, "tax_rate": _rate(voucher.get("vat"))})
            continue
        amount = -sale_price  # eMAG gives vouchers as negative amounts
        discounts.append({"name": name, "amount": float(amount), "tax_rate": _rate(voucher.get("vat"))})
        total -= amount - vat
    status = order_status(order)
    shipping_address = _address(customer, "shipping", "shipping_contact")
    return {
        "external_id": _text(order.get("id")),
        "name": _text(order.get("id")),  # the core says the channel: "eMAG Romania 100001"
        "status": CORE_STATUS.get(status, f"unknown eMAG status {order.get('status')!r}"),
        "date": utc_date(order.get("date"), timezone),
        "modified": utc_date(order.get("modified"), timezone),
        # a canceled order (0) does not say whether it was acknowledged first
        "acknowledged": True if status in ACKNOWLEDGED else False if status == NEW else None,
        "currency": currency,
        "prices_include_tax": False,
        "customer": billing,
        "shipping_address": shipping_address if shipping_address["street"] else None,
        "lines": lines,
        "shipping": shipping,
        "discounts": discounts,
        "total": float(total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)) if lines and readable else None,
        "payment_method": PAYMENT_MODES.get(order.get("payment_mode_id"), _text(order.get("payment_mode_id"))),
        "note": _text(order.get("observation")),
        "cancel_requested": cancel_request(order),
        "raw": order,
    }


def cancel_request(order):
    """The customer's request to cancel an order eMAG still shows open ('' when none): its
    reason when eMAG gives one, else what ``cancellation_request`` says."""
    request = order.get("cancellation_request")
    if not request or request == "0":
        return ""
    reason = order.get("reason_cancellation")
    if isinstance(reason, dict):
        reason = reason.get("name") or reason.get("id")
    if _text(reason).isdigit():
        reason = dict(CANCEL_REASONS).get(_text(reason), f"eMAG reason {_text(reason)}")
    if isinstance(request, dict):
        request = request.get("reason") or request.get("name")
    if isinstance(request, (bool, int, float)):
        request = ""
    return _text(reason) or _text(request) or "requested"


def _rate(value):
    """eMAG VAT rates are fractions ("0.2100"); the core wants percent."""
    if value in (None, ""):
        return None
    try:
        return float(Decimal(str(value)) * 100)
    except ArithmeticError:
        return value  # left for the core's validation to report


def _product(quantity, price, rate):
    try:
        return Decimal(str(quantity)) * Decimal(str(price)) * (1 + Decimal(str(rate or 0)) / 100)
    except ArithmeticError:
        return Decimal(0)
