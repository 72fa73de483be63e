"""Django's SQLite backend, with writers queued instead of sleeping (``base``)."""
