"""External benchmarks (CMC 2007)."""
