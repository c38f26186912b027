from . import mrp_bom, multichannel_channel, multichannel_product_binding, product
