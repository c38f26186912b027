import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "setup"))
if os.environ.get("SMC_ODOO_SRC"):
    sys.path.insert(0, os.environ["SMC_ODOO_SRC"])  # odoo importable for the scenarios

import pytest  # noqa: E402


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
