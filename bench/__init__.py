"""Benchmarks: `make bench` (python -m bench.run). Figures go to README, never into tests."""
