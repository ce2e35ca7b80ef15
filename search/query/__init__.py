"""search.query.parse."""
