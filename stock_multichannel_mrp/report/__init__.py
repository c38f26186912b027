from . import stock_cover_report
