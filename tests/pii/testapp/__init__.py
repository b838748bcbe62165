"""A test-only app with a model using every kind of encrypted field (installed per test)."""
