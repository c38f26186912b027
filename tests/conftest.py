import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "setup"))
# Odoo importable: for the scenarios (a real database, see odoo_registry) and for the
# contract tests, which only import the addons' plain Python and never start Odoo
ODOO_SRC = os.environ.get("SMC_ODOO_SRC") or str(
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stock_multichannel" / "odoo-18.0"
)
if ODOO_SRC not in sys.path:
    sys.path.insert(0, ODOO_SRC)

import pytest  # noqa: E402

import odoo.addons  # noqa: E402

if str(REPO) not in odoo.addons.__path__:
    odoo.addons.__path__.append(str(REPO))


@pytest.fixture(scope="session")
def odoo_registry():
    """The registry of the database setup/test.py just installed and tested, for scenarios.

    Scenarios commit for real (as crons and webhooks do); the database is dropped
    after the run.
    """
    database, odoo_src = os.environ.get("SMC_TEST_DB"), os.environ.get("SMC_ODOO_SRC")
    if not database or not odoo_src:
        pytest.skip("scenarios run through setup/test.py, which installs the addons in a fresh database")
    import odoo

    odoo.tools.config.parse_config(
        ["-d", database, f"--addons-path={os.environ['SMC_ADDONS_PATH']}", "--log-level=warn"], setup_logging=False
    )
    return odoo.modules.registry.Registry(database)
