{
    "name": "Multichannel: WooCommerce Shop",
    "summary": "The merchant's own WooCommerce shop as a sales channel: stock, prices, orders and webhooks",
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
    ],
}
