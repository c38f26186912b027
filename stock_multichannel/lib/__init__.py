"""Plain-Python pieces of the core: no ORM, unit-testable without a database."""
