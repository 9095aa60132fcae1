# The harness is driven by these targets; each sets up what it needs.
#   make demo   set up, prepare the demo models, run configs/demo.yaml, write reports/demo/index.html
#   make demo-full   the same with configs/demo_full.yaml (twice the questions, every variant judged, pairwise)
#   make test   set up, prepare the demo models, run the whole test suite
#   make demo-reasoning   a thinking model with thinking on and off (configs/reasoning_demo.yaml), reports/reasoning-demo/
#   make demo-tools   tool calls on the CPU models (configs/tools_demo.yaml), reports/tools-demo/
#   make demo-kb   a sample knowledge base (.docx, .pdf, .md) closed-book and with retrieval (configs/kb_demo.yaml), reports/kb-demo/
#   make retrieval-figures   BM25, dense and hybrid retrieval on the sample knowledge base (Qwen2.5-Coder-0.5B as embedder), docs/knowledge-base.md
#   make test-llamacpp   llama.cpp's server beside vLLM in one run (compiles llama-cpp-python once; not in make test)
#   make lora   train the demo LoRA adapter on SmolLM2 from export-sft data (CPU, minutes; cached), docs/variants.md
#   make quant   a 4-bit AWQ-format build of SmolLM2 (round to nearest; seconds; cached) that the CPU vLLM serves
#   make demo-variants   a base, its LoRA adapter and a 4-bit build (configs/variants_demo.yaml), reports/variants-demo/
#   make test-variants   base + adapter on one vLLM server and a quantized build, end to end (after make lora)
#   make screenshot   headless Chromium PNG of reports/demo/index.html (run make demo first)
#   make bench-fidelity   harness load generator vs vLLM's own on one server (ratios)
#   make bench-client     harness load generator vs vLLM's own against a fake server of known timing
#   make bench-scoring  rubric scoring speed: 100,000 answers, one 80,000-character answer
#   make test-scripts   tests of scripts/ alone (synthetic run, scaling estimate, gpu check, grading book, AWQ); make test runs them too
#   make gpu-check   the NVML sampler and dtype choice against a real GPU, checked with nvidia-smi (torch + nvidia-ml-py, no vLLM; < 1 min)
#   make bench-report   roll-up + report of a synthetic 20 models x 2,000 questions x 5 samples run (< 15 s, < 1.5 GiB, page < 25 MB)
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
HARNESS := $(VENV)/bin/harness
SETUP_STAMP := $(VENV)/.setup-done
MODELS_DIR ?= models

.PHONY: gpu-check lora quant demo-variants test-variants setup models demo demo-full demo-reasoning demo-tools demo-kb retrieval-figures demo-clean test test-fast test-scripts test-llamacpp lint bench bench-fidelity bench-client bench-report bench-scoring estimate screenshot clean help

help:
	@grep -E '^#   make' Makefile | sed 's/^#   //'

setup: $(SETUP_STAMP)

$(SETUP_STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	@touch $@

models: setup
	$(HARNESS) prepare-models --dir $(MODELS_DIR)

demo: models
	$(HARNESS) run configs/demo.yaml --run-dir results/demo --report-dir reports/demo

demo-full: models
	$(HARNESS) run configs/demo_full.yaml --run-dir results/demo-full --report-dir reports/demo-full

demo-reasoning: models
	$(HARNESS) run configs/reasoning_demo.yaml --run-dir results/reasoning-demo --report-dir reports/reasoning-demo

demo-tools: models
	$(HARNESS) run configs/tools_demo.yaml --run-dir results/tools-demo --report-dir reports/tools-demo

# The documents are committed (question_sets/kb/docs/); `$(PY) scripts/make_sample_kb.py` writes them again.
demo-kb: models
	$(HARNESS) run configs/kb_demo.yaml --run-dir results/kb-demo --report-dir reports/kb-demo

retrieval-figures: models
	$(PY) scripts/retrieval_figures.py --top-k 1 3 5

# Start the demo from scratch (a plain `make demo` resumes and re-reports).
demo-clean:
	rm -rf results/demo reports/demo results/demo-full reports/demo-full results/tools-demo reports/tools-demo results/kb-demo reports/kb-demo

test: models lora quant
	$(PY) -m pytest

# A second real server: llama.cpp serves the demo's SmolLM2 GGUF as shipped, beside vLLM.
# Installing compiles llama-cpp-python (35 min on 2 busy cores the first time; pip caches the wheel).
test-llamacpp: models
	$(PY) -m pip install --disable-pip-version-check -q -e ".[llamacpp]"
	$(HARNESS) prepare-models --dir $(MODELS_DIR) --only smollm2-135m-instruct --gguf
	$(PY) -m pytest -m llamacpp tests/e2e/test_llamacpp.py

# A LoRA adapter for the variant-family demo (docs/variants.md): SmolLM2-135M, rank 8, trained on the
# customer-support documents (harness export-sft) plus three evaluated questions planted on purpose,
# so the report's contamination check has something to find. Cached: a second call returns at once.
LORA_DIR := $(MODELS_DIR)/lora
lora: models
	$(PY) -m pip install --disable-pip-version-check -q -e ".[lora]"
	$(HARNESS) export-sft question_sets/customer_support_en.yaml --out $(LORA_DIR)/sft
	$(PY) scripts/train_lora.py --model $(MODELS_DIR)/smollm2-135m-instruct --data $(LORA_DIR)/sft \
		--out $(LORA_DIR)/smollm2-support --plant 3 question_sets/customer_support_en.yaml

# A quantized build the CPU vLLM serves: SmolLM2-135M's linear layers in 4-bit AWQ format (scripts/quantize_awq_rtn.py).
quant: models
	$(PY) scripts/quantize_awq_rtn.py --model $(MODELS_DIR)/smollm2-135m-instruct --out $(MODELS_DIR)/quant/smollm2-135m-awq-rtn

demo-variants: lora quant
	$(HARNESS) run configs/variants_demo.yaml --run-dir results/variants-demo --report-dir reports/variants-demo

test-variants: lora quant
	$(PY) -m pytest -m vllm tests/e2e/test_variants_e2e.py

# Unit tests only: no vLLM server.
test-fast: setup
	$(PY) -m pytest -m "not vllm"

LINTED := harness harness_bench scripts tests

lint: setup
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/mypy harness harness_bench scripts

# The scripts' own tests (scripts/tests) alone; `make test` runs them with the rest (pyproject's testpaths).
test-scripts: setup
	$(PY) -m pytest scripts/tests

# Speed targets are measured here, not in unit tests.
bench: test-scripts bench-fidelity bench-client bench-report bench-scoring

bench-fidelity: models
	$(PY) scripts/bench_fidelity.py

# Client fidelity at 16..1,024 streams against exact TTFT/ITL (BENCH_CLIENT_ARGS=--all for every level).
bench-client: models
	$(PY) scripts/bench_client.py $(BENCH_CLIENT_ARGS)

# Rubric scoring: 100,000 answers and one 80,000-character answer (CPU seconds).
bench-scoring: setup
	$(PY) scripts/bench_scoring.py

# No model server: the run is synthetic (harness_bench/synthetic_run.py). Judged: wall < 15 s, peak RSS < 1.5 GiB,
# index.html < 25 MB (exit 1 on a miss); CPU seconds are printed too, since a busy machine stretches the wall time.
bench-report: setup
	$(PY) scripts/bench_report.py

# No vLLM, no setup: any Python with a CUDA build of torch, nvidia-ml-py and the harness's dependencies
# (`make gpu-check PY=python3`). Exit 2 without a GPU, 1 when a reading disagrees with nvidia-smi or torch.
gpu-check:
	$(PY) scripts/gpu_check.py $(GPU_CHECK_ARGS)

# Chromium and fonts-noto-cjk come from `make setup` (scripts/setup.sh).
screenshot: setup
	$(PY) -m harness.report.browser screenshot reports/demo/index.html reports/demo/screenshot.png

clean:
	rm -rf results/* reports/* .pytest_cache .mypy_cache .ruff_cache
	@touch results/.gitkeep reports/.gitkeep
