"""The DuckDB catalog's tables (the write rules are in :mod:`indexer.store.store`).

Tables (all times are naive UTC ``TIMESTAMP``; prices are integer minor units plus currency):

* ``merchants``: one row per Shopify store / Etsy shop (``raw_json`` keeps ``meta.json`` / the shop);
  ``origin`` is the store URL it was first crawled from, its identity (see :mod:`indexer.store.identity`).
* ``merchant_links``: other origins the operator linked to a merchant id (``aisle merchants link``).
* ``products``: one row per document id, with ``raw_json`` (the source JSON, so re-parsing needs no
  re-crawl), ``content_hash``, ``first_seen``/``last_seen``/``changed_at``/``removed_at``,
  ``last_run_id`` and ``change_seq`` (the store-wide change counter value of its last change).
* ``variants``, ``options`` (product-level definitions), ``variant_options`` (long format:
  ``doc_id, variant_id, name, canonical, value, value_norm``, for easy SQL filtering), ``images``.
* ``crawl_runs``, ``merchant_crawls`` (per merchant and run: counts, ``complete``), ``crawl_errors``,
  ``quarantine`` (bad source records with their reason and raw JSON), ``history`` (price,
  availability, variant and removal changes).
"""

SCHEMA_VERSION = "1"

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS store_meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS merchants (
    merchant_id VARCHAR PRIMARY KEY, platform VARCHAR NOT NULL, name VARCHAR, base_url VARCHAR,
    currency VARCHAR, country VARCHAR, ships_to VARCHAR, available BOOLEAN, shop_url VARCHAR,
    raw_json VARCHAR, first_seen TIMESTAMP, last_seen TIMESTAMP, origin VARCHAR);
-- Catalogs made before merchant identity existed: the column is added, filled by the identity rules.
ALTER TABLE merchants ADD COLUMN IF NOT EXISTS origin VARCHAR;
CREATE TABLE IF NOT EXISTS merchant_links (
    merchant_id VARCHAR NOT NULL, origin VARCHAR NOT NULL, linked_at TIMESTAMP, source VARCHAR,
    PRIMARY KEY (merchant_id, origin));
CREATE TABLE IF NOT EXISTS products (
    doc_id VARCHAR PRIMARY KEY, platform VARCHAR NOT NULL, merchant_id VARCHAR NOT NULL,
    product_id VARCHAR NOT NULL, title VARCHAR, handle VARCHAR, vendor VARCHAR, product_type VARCHAR,
    tags VARCHAR, body_html VARCHAR, body_text VARCHAR, url VARCHAR, gift_card BOOLEAN,
    personalization_required BOOLEAN, source_updated_at VARCHAR, extra VARCHAR, raw_json VARCHAR,
    content_hash VARCHAR, first_seen TIMESTAMP, last_seen TIMESTAMP, changed_at TIMESTAMP,
    removed_at TIMESTAMP, last_run_id VARCHAR, change_seq BIGINT);
CREATE TABLE IF NOT EXISTS variants (
    doc_id VARCHAR NOT NULL, variant_id VARCHAR NOT NULL, position INTEGER, title VARCHAR, price BIGINT,
    currency VARCHAR, available BOOLEAN, quantity INTEGER, sku VARCHAR, compare_at BIGINT, options VARCHAR);
CREATE TABLE IF NOT EXISTS options (
    doc_id VARCHAR NOT NULL, position INTEGER, name VARCHAR, canonical VARCHAR, "values" VARCHAR);
CREATE TABLE IF NOT EXISTS variant_options (
    doc_id VARCHAR NOT NULL, variant_id VARCHAR NOT NULL, position INTEGER, name VARCHAR, canonical VARCHAR,
    value VARCHAR, value_norm VARCHAR);
CREATE TABLE IF NOT EXISTS images (doc_id VARCHAR NOT NULL, position INTEGER, src VARCHAR);
CREATE TABLE IF NOT EXISTS crawl_runs (
    run_id VARCHAR PRIMARY KEY, started_at TIMESTAMP, finished_at TIMESTAMP, status VARCHAR,
    targets VARCHAR, settings VARCHAR);
CREATE TABLE IF NOT EXISTS merchant_crawls (
    run_id VARCHAR, merchant_id VARCHAR, target VARCHAR, platform VARCHAR, started_at TIMESTAMP,
    finished_at TIMESTAMP, complete BOOLEAN, products INTEGER, new INTEGER, changed INTEGER,
    unchanged INTEGER, removed INTEGER, quarantined INTEGER, errors INTEGER);
CREATE TABLE IF NOT EXISTS crawl_errors (
    run_id VARCHAR, merchant_id VARCHAR, target VARCHAR, url VARCHAR, status INTEGER, code VARCHAR,
    error VARCHAR, "at" TIMESTAMP);
CREATE TABLE IF NOT EXISTS quarantine (
    run_id VARCHAR, merchant_id VARCHAR, record_id VARCHAR, reason VARCHAR, raw VARCHAR, "at" TIMESTAMP);
CREATE TABLE IF NOT EXISTS history (
    doc_id VARCHAR, variant_id VARCHAR, field VARCHAR, old VARCHAR, new VARCHAR, run_id VARCHAR,
    "at" TIMESTAMP);
"""

PRODUCT_COLUMNS = (
    "doc_id platform merchant_id product_id title handle vendor product_type tags body_html body_text url "
    "gift_card personalization_required source_updated_at extra raw_json content_hash first_seen last_seen "
    "changed_at removed_at last_run_id change_seq"
).split()
