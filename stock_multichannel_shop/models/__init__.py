from . import multichannel_channel, multichannel_order, multichannel_product_binding
