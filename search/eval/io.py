"""Input and output formats of ``aisle eval``: queries, judgments (qrels), gold constraints, runs.

Every loader reads UTF-8 (a BOM is tolerated), skips blank lines, and raises
:class:`indexer.errors.ConfigError` naming the file and the 1-based line of the first bad line.

* **Queries** (:func:`load_queries`): JSONL ``{"query_id", "query", "context"?, "filters"?,
  "constraints"?, "kind"?}`` (other keys, e.g. ``intent``, are ignored), or TSV
  ``query_id<TAB>query`` (an optional ``query_id<TAB>query`` header line). The format is sniffed
  from the extension (``.jsonl``, ``.ndjson``, ``.json``) or else the first non-blank character
  (``{`` or ``[`` means JSONL). ``context`` and ``filters`` are the
  engine's own request models; ``constraints`` is the gold reading (see :mod:`search.eval.gold`).
* **Qrels** (:func:`load_qrels`): TREC ``qid 0 doc_id grade`` (whitespace separated), JSONL
  ``{"query_id", "doc_id", "grade"}``, or WANDS-style TSV with a header naming ``query_id``,
  ``product_id`` and ``label`` (``Exact``/``Partial``/``Irrelevant`` → 2/1/0; other columns
  ignored). Grades are integers; a negative grade is a judged non-relevant document. The same
  (query, doc) judged twice with different grades is an error.
* **Constraints** (:func:`load_constraints`): JSONL ``{"query_id", "constraints": {...}}``.
* **Runs** (:func:`load_run`, :func:`save_run`): ranx's JSON ``{query_id: {doc_id: score}}``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from indexer.errors import ConfigError
from search.eval.gold import Constraints, parse_constraints
from search.schema import Context, Filters
from search.serve.errors import validation_error

Qrels = dict[str, dict[str, int]]
RunDict = dict[str, dict[str, float]]

_M = TypeVar("_M", bound=BaseModel)

WANDS_LABELS = {"exact": 2, "partial": 1, "irrelevant": 0}


@dataclass(frozen=True, slots=True)
class EvalQuery:
    """One query to evaluate, as read from the queries file."""

    query_id: str
    query: str
    context: Context | None = None
    filters: Filters | None = None
    constraints: Constraints | None = None  # None: the file gave none for this query
    kind: str | None = None


def _lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of the non-blank lines of a UTF-8 file."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, expected a file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    out = [(i, line.rstrip("\r\n")) for i, line in enumerate(text.split("\n"), start=1)]
    return [(i, line) for i, line in out if line.strip()]


def _json_object(line: str, where: str) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise ConfigError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    return obj


def _qid(obj: dict[str, Any], where: str, key: str = "query_id") -> str:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise ConfigError(f"{where}: {key!r} must be a non-empty string, got {value!r}")
    return str(value).strip()


def _is_jsonl(path: Path, lines: list[tuple[int, str]]) -> bool:
    """JSON lines by extension, else when the first non-blank line opens a JSON value."""
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return True
    return bool(lines) and lines[0][1].lstrip()[:1] in ("{", "[")


def load_queries(path: str | os.PathLike[str]) -> list[EvalQuery]:
    """Read a queries file (JSONL or TSV, see the module docstring), in file order.

    Raises :class:`ConfigError` on a malformed line, a duplicate ``query_id`` or an empty file.
    """
    path = Path(path)
    lines = _lines(path)
    if not lines:
        raise ConfigError(f"{path}: no queries in the file")
    jsonl = _is_jsonl(path, lines)
    out: list[EvalQuery] = []
    seen: dict[str, int] = {}
    for n, line in lines:
        where = f"{path}:{n}"
        q = _query_jsonl(line, where) if jsonl else _query_tsv(line, where, first=n == lines[0][0])
        if q is None:
            continue
        if q.query_id in seen:
            raise ConfigError(f"{where}: duplicate query_id {q.query_id!r} (first on line {seen[q.query_id]})")
        seen[q.query_id] = n
        out.append(q)
    if not out:
        raise ConfigError(f"{path}: no queries in the file")
    return out


def _query_tsv(line: str, where: str, *, first: bool) -> EvalQuery | None:
    parts = line.split("\t")
    if len(parts) != 2:
        raise ConfigError(f"{where}: expected 'query_id<TAB>query' (2 tab-separated fields), got {len(parts)}")
    qid, text = parts[0].strip(), parts[1].strip()
    if first and qid.lower() == "query_id" and text.lower() == "query":
        return None  # header line
    if not qid:
        raise ConfigError(f"{where}: empty query_id")
    if not text:
        raise ConfigError(f"{where}: empty query text for {qid!r}")
    return EvalQuery(qid, text)


def _query_jsonl(line: str, where: str) -> EvalQuery:
    obj = _json_object(line, where)
    qid = _qid(obj, where)
    text = obj.get("query")
    if not isinstance(text, str):
        raise ConfigError(f"{where}: 'query' must be a string, got {text!r}")
    kind = obj.get("kind")
    context = _model(Context, obj.get("context"), "context", where)
    filters = _model(Filters, obj.get("filters"), "filters", where)
    constraints = parse_constraints(obj["constraints"], where) if "constraints" in obj else None
    return EvalQuery(qid, text.strip(), context, filters, constraints, None if kind is None else str(kind))


def _model(model: type[_M], raw: object, field: str, where: str) -> _M | None:
    """Validate an engine request model read from a queries line; None when absent."""
    if raw is None:
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:  # worded by the API's one mapping (search.serve.errors), not pydantic
        edge = validation_error([{**e, "loc": (field, *e["loc"])} for e in exc.errors(include_url=False,
                                                                                      include_input=False)])
        raise ConfigError(f"{where}: bad {field!r}: {edge.message}", code=edge.code) from None


def load_qrels(path: str | os.PathLike[str]) -> Qrels:
    """Read judgments (TREC, JSONL or WANDS TSV; see the module docstring) as ``{qid: {doc_id: grade}}``."""
    path = Path(path)
    lines = _lines(path)
    if not lines:
        raise ConfigError(f"{path}: no judgments in the file")
    qrels: Qrels = {}
    where_of: dict[tuple[str, str], int] = {}
    head = lines[0][1]
    header = [h.strip().lower() for h in head.split("\t")]
    if _is_jsonl(path, lines):
        rows = (_qrel_jsonl(line, f"{path}:{n}") + (n,) for n, line in lines)
    elif {"query_id", "product_id", "label"} <= set(header):
        cols = (header.index("query_id"), header.index("product_id"), header.index("label"))
        rows = (_qrel_wands(line, f"{path}:{n}", cols, len(header)) + (n,) for n, line in lines[1:])
    else:
        rows = (_qrel_trec(line, f"{path}:{n}") + (n,) for n, line in lines)
    for qid, doc, grade, n in rows:
        prev = qrels.setdefault(qid, {}).get(doc)
        if prev is not None and prev != grade:
            raise ConfigError(
                f"{path}:{n}: {qid!r} / {doc!r} judged {grade} here but {prev} on line {where_of[(qid, doc)]}"
            )
        qrels[qid][doc] = grade
        where_of.setdefault((qid, doc), n)
    if not qrels:
        raise ConfigError(f"{path}: no judgments in the file")
    return qrels


def _grade(value: object, where: str) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{where}: grade must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ConfigError(f"{where}: grade must be an integer, got {value!r}")


def _qrel_trec(line: str, where: str) -> tuple[str, str, int]:
    parts = line.split()
    if len(parts) != 4:
        raise ConfigError(f"{where}: expected TREC 'query_id 0 doc_id grade' (4 fields), got {len(parts)}")
    return parts[0], parts[2], _grade(parts[3], where)


def _qrel_jsonl(line: str, where: str) -> tuple[str, str, int]:
    obj = _json_object(line, where)
    for key in ("query_id", "doc_id", "grade"):
        if key not in obj:
            raise ConfigError(f"{where}: missing {key!r}")
    return _qid(obj, where), _qid(obj, where, "doc_id"), _grade(obj["grade"], where)


def _qrel_wands(line: str, where: str, cols: tuple[int, int, int], width: int) -> tuple[str, str, int]:
    parts = line.split("\t")
    if len(parts) != width:
        raise ConfigError(f"{where}: expected {width} tab-separated fields like the header, got {len(parts)}")
    qid, doc, label = (parts[i].strip() for i in cols)
    if not qid or not doc:
        raise ConfigError(f"{where}: empty query_id or product_id")
    grade = WANDS_LABELS.get(label.lower())
    if grade is None:
        raise ConfigError(f"{where}: label must be Exact, Partial or Irrelevant, got {label!r}")
    return qid, doc, grade


def load_constraints(path: str | os.PathLike[str]) -> dict[str, Constraints]:
    """Read a gold constraints JSONL file as ``{query_id: Constraints}``."""
    path = Path(path)
    out: dict[str, Constraints] = {}
    seen: dict[str, int] = {}
    for n, line in _lines(path):
        where = f"{path}:{n}"
        obj = _json_object(line, where)
        qid = _qid(obj, where)
        if "constraints" not in obj:
            raise ConfigError(f"{where}: missing 'constraints'")
        if qid in seen:
            raise ConfigError(f"{where}: duplicate query_id {qid!r} (first on line {seen[qid]})")
        seen[qid] = n
        out[qid] = parse_constraints(obj["constraints"], where)
    return out


def load_run(path: str | os.PathLike[str]) -> RunDict:
    """Read a ranx JSON run ``{query_id: {doc_id: score}}``; entry order is kept (it breaks score ties)."""
    path = Path(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (UnicodeDecodeError, IsADirectoryError, OSError) as exc:
        raise ConfigError(f"{path}: cannot read a run ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a run must be a JSON object {{query_id: {{doc_id: score}}}}")
    run: RunDict = {}
    for qid, docs in data.items():
        if not isinstance(docs, dict):
            raise ConfigError(f"{path}: query {qid!r}: expected an object {{doc_id: score}}")
        ranked: dict[str, float] = {}
        for doc, score in docs.items():
            if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
                raise ConfigError(f"{path}: query {qid!r}, doc {doc!r}: score must be a finite number")
            ranked[doc] = float(score)
        run[str(qid)] = ranked
    return run


def save_run(run: RunDict, path: str | os.PathLike[str]) -> Path:
    """Write a run as ranx JSON (docs in rank order), atomically; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(run, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def run_paths(path: str | os.PathLike[str], modes: list[str]) -> dict[str, Path]:
    """Where ``--save-run PATH`` writes each mode: PATH for one mode, ``PATH.<mode>.json`` for several.

    ``runs/x.json`` with modes bm25 and hybrid gives ``runs/x.bm25.json`` and ``runs/x.hybrid.json``.
    """
    path = Path(path)
    if len(modes) == 1:
        return {modes[0]: path}
    stem = path.name[: -len(".json")] if path.name.endswith(".json") else path.name
    return {m: path.with_name(f"{stem}.{m}.json") for m in modes}
