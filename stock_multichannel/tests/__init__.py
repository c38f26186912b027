from . import (
    test_availability,
    test_browser,
    test_change_detection,
    test_concurrency,
    test_misc,
    test_order_import,
    test_order_status,
    test_pure,
    test_push,
    test_reports,
    test_security,
    test_shown,
)
