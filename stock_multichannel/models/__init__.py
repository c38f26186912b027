from . import (
    multichannel_channel,
    multichannel_ledger,
    multichannel_order,
    multichannel_product_binding,
    multichannel_sync_request,
    multichannel_unmatched_offer,
    product,
    sale_order,
    stock_picking,
    stock_quant,
)
