from . import account_move, multichannel_channel, multichannel_product_binding
