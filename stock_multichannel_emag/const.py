"""Values the eMAG connector's models share."""

# name, API URL, currency, the zone of the platform's dates
PLATFORMS = {
    "ro": ("eMAG Romania", "https://marketplace-api.emag.ro/api-3", "RON", "Europe/Bucharest"),
    "bg": ("eMAG Bulgaria", "https://marketplace-api.emag.bg/api-3", "BGN", "Europe/Sofia"),
    "hu": ("eMAG Hungary", "https://marketplace-api.emag.hu/api-3", "HUF", "Europe/Budapest"),
    "fd_ro": ("Fashion Days Romania", "https://marketplace-ro.fashiondays.com/api-3", "RON", "Europe/Bucharest"),
}
CANCEL_REASONS = [
    ("31", "Partner requested cancellation"),
    ("33", "Product no longer in partner stock"),
    ("1", "Out of stock"),
    ("24", "Customer request"),
]
INVOICE_STATES = [("pending", "To Send"), ("sent", "Sent"), ("error", "Failed (retried)")]
MAX_INVOICE_ATTEMPTS = 10
INVOICE_BATCH = 50
