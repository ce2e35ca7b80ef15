"""indexer.crawl.run."""
