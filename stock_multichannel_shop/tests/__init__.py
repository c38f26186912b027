from . import test_shop, test_shown, test_webhooks
