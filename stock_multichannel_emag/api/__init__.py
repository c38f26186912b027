"""Plain-Python eMAG Marketplace API client and translations (no ORM)."""
