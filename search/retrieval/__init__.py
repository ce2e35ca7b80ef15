"""search.retrieval."""
