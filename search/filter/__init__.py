"""search.filter."""
