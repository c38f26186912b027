from . import multichannel_list_products
