from . import multichannel_channel, multichannel_product_binding
