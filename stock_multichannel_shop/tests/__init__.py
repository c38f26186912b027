from . import test_shop, test_webhooks
