"""buyable_first's eligibility mask and the merchant filter's look-up on a built snapshot (issue 14): before (per
search, every variant and every merchant) and after (the candidates' variants only; merchant arrays and label
keys cached per snapshot), in one process, medians of 30; the answers are checked equal.

    python benchmarks/scale_hotpath.py HOME VERSION     # e.g. the home benchmarks/scale_snapshot.py built
"""
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [str(REPO)] + [p for p in sys.path if p and Path(p).resolve() != REPO / "benchmarks"]
from indexer.build.snapshot import load_version  # noqa: E402
from indexer.workspace import Workspace  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.filter.constraints import norm_label  # noqa: E402
from search.filter.eligibility import Policy, eligible_mask  # noqa: E402
from search.filter.shipping import merchant_ships_to  # noqa: E402

snap = load_version(Workspace.resolve(Path(sys.argv[1])), sys.argv[2])
cat = Engine(snap).catalog  # the memory-mapped columns (no query model is loaded)
pol, now = Policy(stale_ttl_s=None), time.time()

def old_mask(cat, country):  # the code before (eligibility.eligible_mask, catalog.ships_mask)
    m = cat.var_available & (cat.var_quantity != 0) & (cat.var_price > 0)
    ok = np.zeros(len(cat.merchant_ids) + 1, dtype=bool)
    for i, mid in enumerate(cat.merchant_ids):
        ok[i] = cat.merchants[mid].available
    ships = np.zeros(len(cat.merchant_ids) + 1, dtype=bool)
    for i, mid in enumerate(cat.merchant_ids):
        ships[i] = merchant_ships_to(cat.merchants[mid], country)
    prod_ok = ok[cat.prod_merchant] & (ships[cat.prod_merchant] | cat.prod_digital)
    prod_ok &= ~cat.prod_gift & ~cat.prod_personalization
    prod_ok &= ~cat.prod_variants_unknown
    return m & prod_ok[cat.var_row]

def old_merchants(values, cat):
    by_key = {}
    for mid, m in cat.merchants.items():
        for label in (mid, m.name):
            if label:
                by_key.setdefault(norm_label(label), []).append(mid)
    return [v for value in values for v in ([value] if value in cat.merchants else by_key.get(norm_label(value), []))]

def t(fn, n=30):
    fn()
    xs = []
    for _ in range(n):
        a = time.perf_counter()
        fn()
        xs.append((time.perf_counter() - a) * 1000)
    return round(statistics.median(xs), 3)

rng = np.random.default_rng(1)
full = old_mask(cat, "US")
assert np.array_equal(full, eligible_mask(cat, country="US", now=now, policy=pol))
print("products", cat.n_products, "variants", cat.n_variants, "merchants", len(cat.merchant_ids),
      "load", os.getloadavg())
print("before: every variant, merchants looped (ms)", t(lambda: old_mask(cat, "US")))
print("after, full mask (buyable_only) (ms)", t(lambda: eligible_mask(cat, country="US", now=now, policy=pol)))
for k in (100, 1000, 5000):
    rows = np.sort(rng.choice(cat.n_products, k, replace=False))
    part = eligible_mask(cat, country="US", now=now, policy=pol, rows=rows)
    inside = np.zeros(cat.n_variants, bool)
    for r in rows.tolist():
        inside[cat.var_start[r]:cat.var_start[r + 1]] = True
    assert np.array_equal(part[inside], full[inside]) and not part[~inside].any()
    ms = t(lambda r=rows: eligible_mask(cat, country="US", now=now, policy=pol, rows=r))
    print(f"after, {k} candidate rows (ms)", ms)
name = cat.merchants[cat.merchant_ids[5]].name
assert list(cat.merchant_keys[norm_label(name)]) == old_merchants([name], cat)
print("merchant filter look-up before / after (ms)", t(lambda: old_merchants([name], cat)),
      t(lambda: list(cat.merchant_keys.get(norm_label(name), ()))))
