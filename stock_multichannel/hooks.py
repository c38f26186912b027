from odoo.tools import SQL

from .const import WAKEUP_SERIAL_PREFIX
from .lib.shared_rate_limit import DROP_SQL as DROP_RATE_WINDOW
from .models.res_partner import CUSTOMER_INDEXES


def uninstall_hook(env):
    """The addon switched Odoo's Sales menu on (see views/multichannel_menus.xml): switch it
    back off when nothing else wants it, as Odoo ships it without the Sales app."""
    drop_cron_wakeups(env)
    env.cr.execute("DROP TABLE IF EXISTS multichannel_stock_change")  # the stock operations' queue of products
    env.cr.execute("DROP TABLE IF EXISTS multichannel_push_under_way")  # the pushes' notes of their calls
    env.cr.execute("DROP TABLE IF EXISTS multichannel_dated_prices_run")  # the dated prices' last run
    env.cr.execute(DROP_RATE_WINDOW)  # the channel accounts' shared rate windows
    for index in CUSTOMER_INDEXES:
        env.cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(index)))
    sales_app = env["ir.module.module"].search([("name", "=", "sale_management"), ("state", "=", "installed")])
    menu = env.ref("sale.sale_menu_root", raise_if_not_found=False)
    if menu and not sales_app:
        menu.active = False


def drop_cron_wakeups(env):
    """What the crons' wake-ups keep outside Odoo's models (see multichannel_channel_cron)."""
    env.cr.execute(
        """
        DROP FUNCTION IF EXISTS multichannel_wake_cron(integer, integer);
        DROP TABLE IF EXISTS multichannel_cron_wakeup;
        """
    )
    env.cr.execute(
        "SELECT relname FROM pg_class WHERE relkind = 'S' AND starts_with(relname, %s)", [WAKEUP_SERIAL_PREFIX]
    )
    for (name,) in env.cr.fetchall():
        env.cr.execute(SQL("DROP SEQUENCE %s", SQL.identifier(name)))
