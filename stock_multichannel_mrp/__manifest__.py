{
    "name": "Multichannel: Kits",
    "summary": "Kits (phantom bills of materials) shown on every channel as their components allow",
    "version": "18.0.1.1.0",
    "category": "Sales/Sales",
    "license": "AGPL-3",
    "author": "stock_multichannel contributors",
    "website": "https://github.com/stock-multichannel/stock_multichannel",
    "depends": ["stock_multichannel", "sale_mrp"],
    "auto_install": True,
}
