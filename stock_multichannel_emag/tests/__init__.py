from . import test_client
from . import test_sync
from . import test_orders
