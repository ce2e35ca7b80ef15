"""search.eval.io: every input format, and a clear file:line error for each kind of malformed line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.errors import ConfigError
from search.eval.io import load_constraints, load_qrels, load_queries, load_run, run_paths, save_run

SHARED = Path(__file__).resolve().parents[4] / "shared" / "eval" / "dev"


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


# ---- queries -------------------------------------------------------------------------------------


def test_queries_tsv_with_and_without_header(tmp_path: Path) -> None:
    p = _write(tmp_path, "q.tsv", "query_id\tquery\nq1\tred dress\n\n2\t  wool socks \n")
    qs = load_queries(p)
    assert [(q.query_id, q.query) for q in qs] == [("q1", "red dress"), ("2", "wool socks")]
    assert qs[0].context is None and qs[0].constraints is None
    assert load_queries(_write(tmp_path, "b.tsv", "q1\tred dress\r\n"))[0].query == "red dress"


def test_queries_jsonl_with_context_filters_constraints(tmp_path: Path) -> None:
    line = {"query_id": 7, "query": "hoodie", "context": {"country": "in", "currency": "INR"},
            "filters": {"attributes": {"size": "XL"}, "available_only": True},
            "constraints": {"size": "xl", "price_max": {"amount": 100000, "currency": "inr"}},
            "kind": "constrained", "intent": "ignored"}
    q = load_queries(_write(tmp_path, "q.jsonl", "\ufeff" + json.dumps(line) + "\n"))[0]
    assert q.query_id == "7" and q.context is not None and q.context.country == "IN"
    assert q.filters is not None and q.filters.attributes == {"size": ["XL"]} and q.filters.available_only
    assert q.constraints is not None and q.constraints.price_max is not None
    assert q.constraints.price_max.currency == "INR" and q.kind == "constrained"


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("q.tsv", "q1\tok\nq2 no tab\n", r"q\.tsv:2: expected 'query_id<TAB>query'"),
        ("q.tsv", "q1\tok\nq2\ta\tb\n", r"q\.tsv:2: .*got 3"),
        ("q.tsv", "q1\t \n", r"q\.tsv:1: empty query text"),
        ("q.tsv", "q1\ta\nq1\tb\n", r"q\.tsv:2: duplicate query_id 'q1' \(first on line 1\)"),
        ("q.jsonl", '{"query_id": "a", "query": "x"}\n{"query_id": "b", "query": \n', r"q\.jsonl:2: invalid JSON"),
        ("q.jsonl", '["a", "x"]\n', r"q\.jsonl:1: expected a JSON object"),
        ("q.jsonl", '{"query": "x"}\n', r"q\.jsonl:1: 'query_id' must be"),
        ("q.jsonl", '{"query_id": "a", "query": 5}\n', r"q\.jsonl:1: 'query' must be a string"),
        ("q.jsonl", '{"query_id": "a", "query": "x", "context": {"country": "Narn"}}\n', r"q\.jsonl:1: bad 'context'"),
        ("q.jsonl", '{"query_id": "a", "query": "x", "filters": {"colour": "red"}}\n', r"q\.jsonl:1: bad 'filters'"),
        ("q.jsonl", '{"query_id": "a", "query": "x", "constraints": {"colr": "red"}}\n',
         r"q\.jsonl:1: unknown constraint 'colr'"),
        ("q.jsonl", "", r"no queries"),
    ],
)
def test_malformed_queries(tmp_path: Path, name: str, text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_queries(_write(tmp_path, name, text))


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_queries(tmp_path / "missing.tsv")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_queries(_write(tmp_path, "latin.tsv", "q1\tcaf\xe9\n".encode("latin-1")))
    with pytest.raises(ConfigError, match="is a directory"):
        load_qrels(tmp_path)


# ---- qrels ---------------------------------------------------------------------------------------


def test_qrels_trec_jsonl_and_wands(tmp_path: Path) -> None:
    trec = load_qrels(_write(tmp_path, "q.trec", "q1 0 d1 2\nq1\t0\td2\t0\n\nq2 Q0 d1 1\nq2 0 d1 1\n"))
    assert trec == {"q1": {"d1": 2, "d2": 0}, "q2": {"d1": 1}}
    jl = load_qrels(_write(tmp_path, "q.jsonl", '{"query_id": "q1", "doc_id": "d1", "grade": 2}\n'
                                                '{"query_id": 2, "doc_id": "d9", "grade": "1"}\n'))
    assert jl == {"q1": {"d1": 2}, "2": {"d9": 1}}
    wands = load_qrels(_write(tmp_path, "label.csv", "id\tquery_id\tproduct_id\tlabel\n"
                                                     "0\t0\t25434\tExact\n1\t0\t12088\tIrrelevant\n"
                                                     "2\t1\t42931\tpartial\n"))
    assert wands == {"0": {"25434": 2, "12088": 0}, "1": {"42931": 1}}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("q1 0 d1 2\nq1 0 d2\n", r"q\.txt:2: expected TREC .*got 3"),
        ("q1 0 d1 high\n", r"q\.txt:1: grade must be an integer"),
        ("q1 0 d1 2\nq1 0 d1 1\n", r"q\.txt:2: 'q1' / 'd1' judged 1 here but 2 on line 1"),
        ('{"query_id": "q1", "doc_id": "d1"}\n', r"q\.txt:1: missing 'grade'"),
        ('{"query_id": "q1", "doc_id": "d1", "grade": 1.5}\n', r"q\.txt:1: grade must be an integer"),
        ('{"query_id": "q1", "doc_id": "d1", "grade": true}\n', r"q\.txt:1: grade must be an integer"),
        ('{"query_id": "q1", "doc_id": "d1", "grade": 1}\n{oops}\n', r"q\.txt:2: invalid JSON"),
        ("query_id\tproduct_id\tlabel\nq1\td1\tGood\n", r"q\.txt:2: label must be Exact, Partial or Irrelevant"),
        ("query_id\tproduct_id\tlabel\nq1\td1\n", r"q\.txt:2: expected 3 tab-separated fields"),
        ("query_id\tproduct_id\tlabel\n", r"no judgments"),
        ("\n\n", r"no judgments"),
    ],
)
def test_malformed_qrels(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_qrels(_write(tmp_path, "q.txt", text))


# ---- constraints ---------------------------------------------------------------------------------


def test_constraints_jsonl(tmp_path: Path) -> None:
    p = _write(tmp_path, "c.jsonl", json.dumps({"query_id": "q1", "constraints": {
        "colour": "Red", "option": {"With Scarf": "Yes"}, "vendor": "Sony", "country": "vn", "available": True,
        "price_min": {"amount": 100, "currency": "USD"}}}) + "\n" + '{"query_id": "q2", "constraints": {}}\n')
    got = load_constraints(p)
    c = got["q1"]
    assert c.attributes == (("color", "Red"), ("With Scarf", "Yes")) and c.vendor == "Sony"
    assert c.country == "VN" and c.available is True and c.price_min is not None and c.price_min.amount == 100
    assert got["q2"].empty and not c.empty


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ('{"query_id": "q1"}', r"c\.jsonl:1: missing 'constraints'"),
        ('{"query_id": "q1", "constraints": []}', r"c\.jsonl:1: 'constraints' must be an object"),
        ('{"query_id": "q1", "constraints": {"price_max": 40}}', r"c\.jsonl:1: 'price_max' must be"),
        ('{"query_id": "q1", "constraints": {"price_max": {"amount": 40.5, "currency": "USD"}}}',
         r"amount must be a non-negative integer"),
        ('{"query_id": "q1", "constraints": {"price_min": {"amount": 4, "currency": "dollars"}}}',
         r"currency must be an ISO 4217 code"),
        ('{"query_id": "q1", "constraints": {"country": "USA"}}', r"'country' must be an ISO 3166-1"),
        ('{"query_id": "q1", "constraints": {"available": "yes"}}', r"'available' must be true or false"),
        ('{"query_id": "q1", "constraints": {"option": {}}}', r"'option' must be a non-empty object"),
        ('{"query_id": "q1", "constraints": {"color": ""}}', r"constraint 'color' must be a non-empty string"),
        ('{"query_id": "q1", "constraints": {"shipping": "fast"}}', r"unknown constraint 'shipping'"),
    ],
)
def test_malformed_constraints(tmp_path: Path, line: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_constraints(_write(tmp_path, "c.jsonl", line + "\n"))


def test_duplicate_constraints(tmp_path: Path) -> None:
    text = '{"query_id": "q1", "constraints": {}}\n{"query_id": "q1", "constraints": {}}\n'
    with pytest.raises(ConfigError, match=r"c\.jsonl:2: duplicate query_id"):
        load_constraints(_write(tmp_path, "c.jsonl", text))


# ---- runs ----------------------------------------------------------------------------------------


def test_run_round_trip_keeps_order(tmp_path: Path) -> None:
    run = {"q1": {"b": 2.0, "a": 2.0, "c": 1}, "q2": {}}
    back = load_run(save_run(run, tmp_path / "sub" / "r.json"))
    assert back == run and list(back["q1"]) == ["b", "a", "c"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"q1": {"a": 1.0},\n "q2": }', r"r\.json:2: invalid JSON"),
        ('[1, 2]', r"a run must be a JSON object"),
        ('{"q1": [1]}', r"query 'q1': expected an object"),
        ('{"q1": {"a": "high"}}', r"doc 'a': score must be a finite number"),
        ('{"q1": {"a": true}}', r"score must be a finite number"),
    ],
)
def test_malformed_runs(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_run(_write(tmp_path, "r.json", text))


def test_run_paths() -> None:
    assert run_paths("out/run.json", ["hybrid"]) == {"hybrid": Path("out/run.json")}
    assert run_paths("out/run.json", ["bm25", "hybrid"]) == {
        "bm25": Path("out/run.bm25.json"), "hybrid": Path("out/run.hybrid.json")}
    assert run_paths("out/run", ["bm25", "dense"])["dense"] == Path("out/run.dense.json")


# ---- the shared dev set --------------------------------------------------------------------------


def test_shared_dev_files_load() -> None:
    if not (SHARED / "queries.jsonl").exists():
        pytest.skip("shared eval material is absent")
    queries = load_queries(SHARED / "queries.jsonl")
    qrels = load_qrels(SHARED / "qrels.tsv")
    assert len(queries) == 40 and {q.query_id for q in queries} == set(qrels)
    assert sum(1 for q in queries if q.constraints is not None and not q.constraints.empty) >= 10


def test_queries_with_exclude_constraints_load(tmp_path) -> None:
    from search.eval.io import load_queries

    f = tmp_path / "q.jsonl"
    f.write_text('{"query_id": "q1", "query": "towel, any colour but yellow", '
                 '"constraints": {"exclude": {"color": ["Yellow"]}}}\n', "utf-8")
    (q,) = load_queries(f)
    assert q.constraints is not None and q.constraints.exclude == (("color", "Yellow"),)
