from . import test_prices, test_shop, test_shown, test_webhooks
