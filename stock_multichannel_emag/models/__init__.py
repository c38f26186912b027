from . import multichannel_channel
from . import multichannel_product_binding
