"""Translations between the core's plain data and eMAG's payloads. Pure functions."""

import re
from decimal import ROUND_HALF_UP, Decimal

MAX_STOCK = 65535
STATUS_NAMES = {0: "canceled", 1: "new", 2: "in progress", 3: "prepared", 4: "finalized", 5: "returned"}
# eMAG status -> the core's normalised order status
CORE_STATUS = {0: "cancelled", 1: "open", 2: "open", 3: "open", 4: "closed", 5: "closed"}
PAYMENT_MODES = {1: "cash on delivery", 2: "bank transfer", 3: "card"}
FINALIZED, CANCELED = 4, 0


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


def refused_items(messages, offer_ids):
    """{offer id: message} for the offers a successful answer's messages refuse.

    Messages come as "<id>: text" (objects) or free text naming the offer id.
    """
    refused = {}
    wanted = set(offer_ids)
    for message in messages:
        for number in re.findall(r"\d+", message):
            if int(number) in wanted and int(number) not in refused:
                refused[int(number)] = message
                break
    return refused


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


def order_status(order):
    try:
        return int(order.get("status"))
    except (TypeError, ValueError):
        return None


def normalize_order(order, currency, default_vat_rate):
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
    shipping_rate = rates[0] if rates else default_vat_rate
    shipping = []
    shipping_with_vat = _decimal(order.get("shipping_tax"))
    if shipping_with_vat:
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
        amount = -_decimal(voucher.get("sale_price"))  # eMAG gives vouchers as negative amounts
        discounts.append(
            {
                "name": _text(voucher.get("voucher_name")) or "eMAG voucher",
                "amount": float(amount),
                "tax_rate": _rate(voucher.get("vat")),
            }
        )
        total -= amount - _decimal(voucher.get("sale_price_vat"))
    status = order_status(order)
    shipping_address = _address(customer, "shipping", "shipping_contact")
    return {
        "external_id": _text(order.get("id")),
        "name": f"eMAG {_text(order.get('id'))}",
        "status": CORE_STATUS.get(status, f"unknown eMAG status {order.get('status')!r}"),
        "date": _text(order.get("date")),
        "currency": currency,
        "prices_include_tax": False,
        "customer": billing,
        "shipping_address": shipping_address if shipping_address["street"] else None,
        "lines": lines,
        "shipping": shipping,
        "discounts": discounts,
        "total": float(total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)) if lines else None,
        "payment_method": PAYMENT_MODES.get(order.get("payment_mode_id"), _text(order.get("payment_mode_id"))),
        "note": _text(order.get("observation")),
        "raw": order,
    }


def _decimal(value):
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except ArithmeticError:
        return Decimal(0)


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
