from . import test_pure
from . import test_availability
from . import test_change_detection
from . import test_push
from . import test_order_import
from . import test_order_status
from . import test_concurrency
from . import test_misc
