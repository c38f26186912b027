from . import test_browser, test_callbacks, test_client, test_invoices, test_orders, test_shown, test_sync
