"""Pure-Python geometry for CivicGrid: no Django imports here, so it can be benchmarked alone."""
