"""Business rules on the store, with no network: the master catalog, stock and its
ledger, reservations and per-channel targets, prices, order ingestion, the outbox
of pushes, and ``listings`` — the one writer of what each channel shows."""
