"""Benchmarks behind `newswatch bench ...`; each prints JSON results."""
