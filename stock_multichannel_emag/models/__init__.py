from . import account_move, multichannel_channel, multichannel_emag_callback, multichannel_product_binding
