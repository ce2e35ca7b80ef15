"""search.eval."""
