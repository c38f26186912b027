{
    "name": "Multichannel: eMAG Marketplace",
    "summary": "Stock, prices and orders of eMAG Marketplace (RO, BG, HU, Fashion Days) in sync with Odoo",
    "version": "18.0.1.0.0",
    "category": "Sales/Sales",
    "license": "AGPL-3",
    "author": "stock_multichannel contributors",
    "website": "https://github.com/stock-multichannel/stock_multichannel",
    "depends": ["stock_multichannel"],
    "external_dependencies": {"python": ["requests"]},
    "data": [
        "data/ir_cron.xml",
        "views/multichannel_channel_views.xml",
        "views/multichannel_product_binding_views.xml",
        "views/account_move_views.xml",
    ],
    "assets": {
        "web.assets_tests": ["stock_multichannel_emag/static/tests/tours/*.js"],
    },
}
