"""A variant family end to end on the real CPU vLLM: base + LoRA adapter on one server, and a quantized build.

The adapter is the demo's (``make lora``: SmolLM2-135M, rank 8, trained on the customer-support
documents with three evaluated questions planted on purpose). The run serves the base with
``--enable-lora`` once and asks the adapter on that server; the quantized build is the base's weights
quantized to 4 bits in AWQ's format (``make quant``: scripts/quantize_awq_rtn.py, round to nearest), on its own
server (vLLM's CPU build runs AWQ checkpoints with its WNA16 kernel). The report's Variants section must show the
paired figures and name the three planted questions.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from harness.inputs.questions import load_question_set
from harness.records import Generation, Phase
from harness.report import browser
from harness.store import read_records
from tests.support.files import HARNESS, MODELS, REPO, SMOL, need_model, write_yaml
from tests.support.vllm import CPU_VLLM

pytestmark = pytest.mark.vllm

ADAPTER = MODELS / "lora" / "smollm2-support"
AWQ = MODELS / "quant" / "smollm2-135m-awq-rtn"
SET = REPO / "question_sets" / "customer_support_en.yaml"
PLANTED = ["billing-001", "billing-002", "billing-003"]
"""The first three questions of the set: ``make lora`` plants them (--plant 3)."""


def _awq_kernel_missing() -> str | None:
    """Why this host cannot serve the 4-bit build, or None. vLLM's CPU build ships its 4-bit (AWQ)
    kernel, ``cpu_gemm_wna16``, in its AVX-512 library only: an AVX2-only CPU loads ``_C_AVX2``, and
    the server dies at the first request. Asked in a child process, which loads vLLM as a server would."""
    import subprocess

    code = (
        "import torch; from vllm.platforms import current_platform as p; from vllm import _custom_ops; "
        "print('ok' if not p.is_cpu() or hasattr(torch.ops._C, 'cpu_gemm_wna16') else 'missing')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    if done.stdout.strip().endswith("missing"):
        return "this CPU's vLLM build has no 4-bit (AWQ) kernel (cpu_gemm_wna16 is built for AVX-512 only)"
    return None


def _plan(tmp: Path) -> Path:
    need_model(SMOL)
    if (why := _awq_kernel_missing()) is not None:
        pytest.skip(why)
    if not (ADAPTER / "adapter_config.json").is_file():
        pytest.fail(f"demo adapter {ADAPTER} is missing: run `make lora` (make test does)")
    if not (AWQ / "config.json").is_file():
        pytest.fail(f"4-bit build {AWQ} is missing: run `make quant` (make test does)")
    vllm = CPU_VLLM.model_dump(mode="json", exclude_defaults=True)
    return write_yaml(tmp / "plan.yaml", {
        "name": "family-e2e",
        "candidates": [
            {"name": "smol", "model": str(SMOL), "vllm": vllm},
            {"name": "smol-support", "model": str(SMOL), "base": "smol", "adapter": str(ADAPTER),
             "train_data": str(ADAPTER / "train_data")},
            {"name": "smol-awq", "model": str(AWQ), "base": "smol", "vllm": vllm},
        ],
        "question_sets": [str(SET)],
        "sampling": {"max_tokens": 48},
        "limits": {"concurrency": 4},
        "perf": {"sweep": None},
    })  # fmt: skip


@pytest.fixture(scope="module")
def family_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import subprocess

    tmp = tmp_path_factory.mktemp("family")
    plan = _plan(tmp)
    done = subprocess.run([*HARNESS, "run", str(plan), "--run-dir", str(tmp / "run"), "--report-dir",
                           str(tmp / "report"), "--quiet"], capture_output=True, text=True, cwd=REPO)  # fmt: skip
    (tmp / "stderr.txt").write_text(done.stderr)
    assert done.returncode == 0, done.stderr[-3000:]
    return tmp


def test_base_and_adapter_share_one_server_start(family_run: Path) -> None:
    run = family_run / "run"
    phases = {p.candidate: p for p in read_records(run / "phases.jsonl", Phase)}
    assert phases["smol"].server_start_s and phases["smol-awq"].server_start_s
    assert phases["smol-support"].server_start_s is None  # asked on smol's server
    logs = sorted(p.name for p in (run / "logs").glob("*.vllm.log"))
    assert logs == ["smol-awq.vllm.log", "smol.vllm.log"]
    manifest = json.loads((run / "manifest.json").read_text())
    command = manifest["candidates"]["smol"]["server_command"]
    assert "--enable-lora" in command and f"smol-support={ADAPTER.resolve()}" in command
    assert manifest["candidates"]["smol-support"]["adapter"]["served_on"] == "smol"
    assert manifest["candidates"]["smol-awq"]["model"] == str(AWQ)


def test_every_candidate_answered_and_the_adapter_changes_answers(family_run: Path) -> None:
    gens = read_records(family_run / "run" / "generations.jsonl", Generation)
    total = len(load_question_set(SET)[0].questions)
    ok = {
        c: {g.question_id: g.text for g in gens if g.candidate == c and g.ok}
        for c in ("smol", "smol-support", "smol-awq")
    }
    assert {c: len(answers) for c, answers in ok.items()} == {"smol": total, "smol-support": total, "smol-awq": total}
    assert sum(ok["smol"][q] != ok["smol-support"][q] for q in ok["smol"]) > 0  # the adapter is applied
    assert sum(ok["smol"][q] != ok["smol-awq"][q] for q in ok["smol"]) > 0  # the 4-bit weights are used


def test_variants_section_shows_paired_figures_and_the_planted_questions(family_run: Path) -> None:
    summary = json.loads((family_run / "report" / "summary.json").read_text())
    rows = {v["variant"]: v for v in summary["variants"]}
    assert set(rows) == {"smol-support", "smol-awq"}
    lora, quant = rows["smol-support"], rows["smol-awq"]
    total = len(load_question_set(SET)[0].questions)
    assert (lora["kind"], quant["kind"], lora["n"], quant["n"]) == ("lora", "quantized", total, total)
    assert lora["contaminated"] == [f"customer_support_en/{q}" for q in PLANTED]
    assert lora["clean_n"] == total - 3 and "without the 3 questions" in lora["summary"]
    assert quant["low_points"] is not None and quant["p_holm"] is not None
    # 4 bits instead of 16 for the decoder's linear layers: a smaller checkpoint, so less memory needed.
    assert quant["deltas"]["memory"] is not None and quant["deltas"]["memory"] < 0
    html = (family_run / "report" / "index.html").read_text(encoding="utf-8")
    section = html.split('<section id="variants">')[1].split("</section>")[0]
    assert all(f"<code>customer_support_en/{q}</code>" in section for q in PLANTED)
    if browser.find_chromium() is not None:
        png = browser.screenshot(family_run / "report" / "index.html", family_run / "report" / "variants.png",
                                 width_px=1400, height_px=6000)  # fmt: skip
        assert png.stat().st_size > 50_000
