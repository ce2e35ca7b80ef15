"""search.serve."""
