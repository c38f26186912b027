from . import test_client, test_orders, test_sync
