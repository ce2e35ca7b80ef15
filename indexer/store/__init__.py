"""indexer.store.store."""
