"""Benchmarks of the mock carrier, run on demand (`python -m benchmarks.<name>`), not in CI."""
