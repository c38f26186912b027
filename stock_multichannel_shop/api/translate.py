"""Translations between the core's plain data and WooCommerce payloads. Pure functions."""

from decimal import ROUND_HALF_UP, Decimal

CORE_STATUS = {
    "processing": "open",
    "on-hold": "open",
    "completed": "open",
    "pending": "pending",
    "cancelled": "cancelled",
    "refunded": "cancelled",
    "failed": "cancelled",
    "trash": "cancelled",
}


def money(value):
    return f"{Decimal(str(value)).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"


def _decimal(value):
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except ArithmeticError:
        return Decimal(0)


def stock_item(item_id, quantity):
    return {"id": item_id, "manage_stock": True, "stock_quantity": max(0, int(quantity))}


def price_item(item_id, price, regular_price):
    """Regular price, and the sale price only when the pricelist gives less (else cleared)."""
    regular = max(Decimal(str(regular_price or 0)), Decimal(str(price)))
    item = {"id": item_id, "regular_price": money(regular), "sale_price": ""}
    if Decimal(str(price)) < regular:
        item["sale_price"] = money(price)
    return item


def item_error(answer):
    """The error message of one batch answer item, or '' when it was saved."""
    error = answer.get("error") if isinstance(answer, dict) else {"message": "no answer"}
    if not error:
        return ""
    return f"{error.get('message') or 'refused'} ({error.get('code', 'error')})"


def _rate(amount, tax):
    amount, tax = _decimal(amount), _decimal(tax)
    if not amount:
        return None
    return float((tax / amount * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _address(data, email="", phone=""):
    data = data if isinstance(data, dict) else {}
    name = " ".join(filter(None, [str(data.get("first_name") or "").strip(), str(data.get("last_name") or "").strip()]))
    return {
        "name": name,
        "company": data.get("company") or "",
        "is_company": False,
        "street": data.get("address_1") or "",
        "street2": data.get("address_2") or "",
        "city": data.get("city") or "",
        "zip": data.get("postcode") or "",
        "state": data.get("state") or "",
        "country_code": data.get("country") or "",
        "email": data.get("email") or email,
        "phone": data.get("phone") or phone,
    }


def normalize_order(order):
    """A WooCommerce order as the core's normalised order (see stock_multichannel.lib.orders).

    Lines go by variation id, then product id (the listing's external id), then SKU;
    unit prices come from the line subtotal (before coupons), coupons become discounts,
    fees with a positive amount are charged like shipping and negative ones discount.
    """
    if not isinstance(order, dict):
        return {"external_id": "", "raw": order}
    include = bool(order.get("prices_include_tax"))
    lines = []
    for line in order.get("line_items") or []:
        if not isinstance(line, dict):
            continue
        quantity = _decimal(line.get("quantity"))
        subtotal, tax = _decimal(line.get("subtotal")), _decimal(line.get("subtotal_tax"))
        gross = subtotal + tax if include else subtotal
        lines.append(
            {
                "external_id": str(line.get("id") or ""),
                "listing_external_id": str(line.get("variation_id") or line.get("product_id") or ""),
                "sku": line.get("sku") or "",
                "name": line.get("name") or "",
                "quantity": line.get("quantity"),
                "unit_price": float(gross / quantity) if quantity else line.get("price"),
                "tax_rate": _rate(subtotal, tax),
            }
        )
    charges = [
        {
            "name": s.get("method_title") or "Shipping",
            "tax_rate": _rate(s.get("total"), s.get("total_tax")),
            "amount": float(_decimal(s.get("total")) + (_decimal(s.get("total_tax")) if include else 0)),
        }
        for s in order.get("shipping_lines") or []
        if isinstance(s, dict)
    ]
    discounts = [
        {
            "name": f"Coupon {c.get('code') or ''}".strip(),
            "tax_rate": _rate(c.get("discount"), c.get("discount_tax")),
            "amount": float(_decimal(c.get("discount")) + (_decimal(c.get("discount_tax")) if include else 0)),
        }
        for c in order.get("coupon_lines") or []
        if isinstance(c, dict)
    ]
    for fee in order.get("fee_lines") or []:
        if not isinstance(fee, dict):
            continue
        amount = _decimal(fee.get("total")) + (_decimal(fee.get("total_tax")) if include else 0)
        entry = {
            "name": fee.get("name") or "Fee",
            "tax_rate": _rate(fee.get("total"), fee.get("total_tax")),
            "amount": float(abs(amount)),
        }
        (charges if amount >= 0 else discounts).append(entry)
    billing = order.get("billing") if isinstance(order.get("billing"), dict) else {}
    customer = _address(billing)
    shipping = _address(order.get("shipping"))
    same = all(shipping[k] == customer[k] for k in ("street", "city", "zip", "name"))
    return {
        "external_id": str(order.get("id") or ""),
        "name": f"Shop #{order.get('number') or order.get('id')}",
        "status": CORE_STATUS.get(order.get("status"), "pending"),
        "date": (order.get("date_created_gmt") or "").replace("T", " "),
        "currency": order.get("currency") or "",
        "prices_include_tax": include,
        "customer": customer,
        "shipping_address": None if same or not shipping["street"] else shipping,
        "lines": lines,
        "shipping": charges,
        "discounts": discounts,
        "total": order.get("total"),
        "payment_method": order.get("payment_method_title") or order.get("payment_method") or "",
        "note": order.get("customer_note") or "",
        "raw": order,
    }
