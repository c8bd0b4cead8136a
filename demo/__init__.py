"""The demo and the benchmark (test-only: not part of the built collection)."""
