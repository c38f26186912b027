from . import account_invoice_report, sale_report, stock_cover_report
