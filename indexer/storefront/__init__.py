"""The storefront simulator: a real HTTP server that serves a catalog directory as Shopify and Etsy do.

For tests, demos and benchmarks. See :mod:`indexer.storefront.app` for the paths,
:mod:`indexer.storefront.faults` for fault injection and :mod:`indexer.storefront.admin` for the
admin API. Public entry points::

    create_app(catalog_dir, *, faults=None, seed=0, page_cap=25000, slow_seconds=5.0, retry_after=1.0)
    parse_faults("429=0.05,500=0.03,timeout=0.02,truncate=0.02,html=0.01,dup=0.02") -> FaultSpec
    with running_storefront(catalog_dir, **same kwargs, host="127.0.0.1", port=0) as sf:
        sf.base_url, sf.shopify_url(slug), sf.etsy_api, sf.etsy_shop_ids, sf.shopify_slugs
        sf.admin.set_price("shopify", slug, product_id, variant_id, "34.00"); sf.fault_stats()
"""

from indexer.storefront.app import create_app
from indexer.storefront.faults import FAULT_KINDS, FaultSpec, parse_faults
from indexer.storefront.server import AdminClient, RunningStorefront, running_storefront

__all__ = [
    "FAULT_KINDS",
    "AdminClient",
    "FaultSpec",
    "RunningStorefront",
    "create_app",
    "parse_faults",
    "running_storefront",
]
