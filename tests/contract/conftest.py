"""The WooCommerce client, translations and simulator against the recordings of a real
WooCommerce 9.2.5 and over real HTTP on 127.0.0.1, without a database: Odoo is only
imported (for the addons' plain Python), never started."""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ODOO_SRC = os.environ.get("SMC_ODOO_SRC") or str(
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stock_multichannel" / "odoo-18.0"
)
if ODOO_SRC not in sys.path:
    sys.path.insert(0, ODOO_SRC)

import odoo.addons  # noqa: E402

if str(REPO) not in odoo.addons.__path__:
    odoo.addons.__path__.append(str(REPO))
