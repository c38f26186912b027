from . import mrp_bom, mrp_bom_line, multichannel_channel, multichannel_sync_request, product_product, uom_uom
