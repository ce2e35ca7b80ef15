#!/usr/bin/env bash
# Idempotent setup: a virtual environment in .venv with aisle and its test tools installed.
# torch is pinned and installed FIRST: the 2.13.0 CPU wheel; an unpinned torch (pulled in by
# sentence-transformers) would resolve to a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
if ! python -c "import torch, sys; sys.exit(0 if torch.__version__.startswith('2.13.0') else 1)" 2>/dev/null; then
  python -m pip install -q "torch==2.13.0"
fi
# ray: the Ray tests run on a local cluster in CI; openvino: the openvino(-bf16) embedding backends and their tests
python -m pip install -q -e ".[test,ray,openvino]"
