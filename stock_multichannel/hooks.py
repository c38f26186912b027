def uninstall_hook(env):
    """The addon switched Odoo's Sales menu on (see views/multichannel_menus.xml): switch it
    back off when nothing else wants it, as Odoo ships it without the Sales app."""
    sales_app = env["ir.module.module"].search([("name", "=", "sale_management"), ("state", "=", "installed")])
    menu = env.ref("sale.sale_menu_root", raise_if_not_found=False)
    if menu and not sales_app:
        menu.active = False
