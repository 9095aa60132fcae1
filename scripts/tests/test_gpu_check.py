"""`make gpu-check` (scripts/gpu_check.py) run against the fake NVML: its readings, its table, its exits.

The real GPU run is `make gpu-check` on a GPU machine (docs/performance.md, "GPU check"); here every
figure the script compares is worked by hand.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import gpu_check
import pytest
from gpu_check import TorchFacts, WorkloadResult, compare, parse_smi

from harness.dtype import choose_dtype
from harness.hardware import GpuFacts, HostFacts
from harness.run.perf.nvml import GpuReading, Sample, summarize
from tests.support.fake_pynvml import GIB, FakeDevice, FakeNvml, NVMLError_LibraryNotFound

H100 = TorchFacts(True, "NVIDIA H100 80GB HBM3", (9, 0), True)


def h100_choice():  # type: ignore[no-untyped-def]
    return choose_dtype("auto", HostFacts("gpu", gpus=(GpuFacts("NVIDIA H100 80GB HBM3", (9, 0)),)))


def samples(power_w: list[float], used_gib: float) -> list[Sample]:
    """One sample a second."""
    return [Sample(float(t), (GpuReading(0, int(used_gib * GIB), 80 * GIB, 90.0, p),)) for t, p in enumerate(power_w)]


def test_nvidia_smi_csv_is_read_in_gib_and_watts() -> None:
    assert parse_smi("40960, 312.45\n") == (40.0, 312.45)  # 40,960 MiB = 40 GiB
    assert parse_smi("1024, [N/A]") == (1.0, None)  # a board that does not report power


def test_the_harness_readings_against_nvidia_smi() -> None:
    # NVML: 300 W at t = 0, 1, 2 s -> mean 300 W, energy (300 + 300) / 2 x 2 s = 600 J; 1,000 tokens -> 0.6 J/token
    summary = summarize(samples([300.0, 300.0, 300.0], 40.0), source="nvml", names={0: "NVIDIA H100 80GB HBM3"})
    # nvidia-smi: 290, 310, 300 W -> mean 300 W; energy (290 + 310) / 2 + (310 + 300) / 2 = 605 J -> 0.605 J/token;
    # peak 40.1 GiB against NVML's 40.0: 0.1 GiB apart, within 0.25
    smi = [(0.0, 40.0, 290.0), (1.0, 40.1, 310.0), (2.0, 40.0, 300.0)]
    rows = {r.figure: r for r in compare(summary, smi, WorkloadResult(1000, 2.0, 2.3), h100_choice(), H100)}
    assert (rows["peak memory used (GiB)"].harness, rows["peak memory used (GiB)"].other) == ("40.00", "40.10")
    assert (rows["mean power (W)"].harness, rows["mean power (W)"].other) == ("300.0", "300.0")
    assert (rows["energy (J / token)"].harness, rows["energy (J / token)"].other) == ("0.6000", "0.6050")
    assert rows["decode tokens / s"].harness == "500"  # 1,000 tokens in 2 s
    assert rows["dtype (auto)"].harness == "bfloat16"  # compute capability 9.0 computes bfloat16
    assert rows["compute capability"].harness == "9.0" == rows["compute capability"].other
    assert {r.verdict for r in rows.values()} <= {"ok", "–"}


def test_a_disagreement_is_flagged() -> None:
    summary = summarize(samples([300.0, 300.0], 40.0), source="nvml")
    # nvidia-smi reads 150 W (half): |300 - 150| = 150 > 0.15 x 300 = 45 -> MISMATCH; 41 GiB is 1 GiB off -> MISMATCH
    smi = [(0.0, 41.0, 150.0), (1.0, 41.0, 150.0)]
    rows = {r.figure: r for r in compare(summary, smi, WorkloadResult(100, 1.0), h100_choice(), H100)}
    assert rows["mean power (W)"].verdict == "MISMATCH" and rows["peak memory used (GiB)"].verdict == "MISMATCH"
    assert rows["energy (J / token)"].verdict == "MISMATCH"  # 3.0 against 1.5 J/token
    # a T4 (7.5) refuses bfloat16: the harness picks float16, and torch without emulation agrees
    t4 = choose_dtype("auto", HostFacts("gpu", gpus=(GpuFacts("Tesla T4", (7, 5)),)))
    rows = {r.figure: r for r in compare(summary, smi, WorkloadResult(100, 1.0), t4,
                                         TorchFacts(True, "Tesla T4", (7, 5), False))}  # fmt: skip
    assert (rows["dtype (auto)"].harness, rows["dtype (auto)"].verdict) == ("float16", "ok")
    assert rows["compute capability"].verdict == "ok"


def fake_work(dtype: str, seconds: float) -> WorkloadResult:
    assert dtype == "bfloat16"  # the workload runs in the dtype the harness chose
    time.sleep(seconds)
    return WorkloadResult(1600, seconds, 2.3)


def test_the_whole_script_against_the_fake_nvml(capsys: pytest.CaptureFixture[str]) -> None:
    # 40 GiB used and 300 W throughout, on NVML and on nvidia-smi: every figure agrees -> exit 0
    nvml = FakeNvml([FakeDevice(name="NVIDIA H100 80GB HBM3", used_bytes=(40 * GIB,), power_mw=(300_000,),
                                compute_capability=(9, 0))])  # fmt: skip
    code = gpu_check.main(["--seconds", "0.3"], nvml=nvml, smi=lambda index: (40.0, 300.0), workload=fake_work,
                          facts=lambda: H100, interval_s=0.05)  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    lines = {line.split("  ")[0]: line for line in out.splitlines()}
    assert "40.00" in lines["peak memory used (GiB)"] and lines["peak memory used (GiB)"].endswith("ok")
    assert "300.0" in lines["mean power (W)"] and lines["mean power (W)"].endswith("ok")
    assert lines["energy (J / token)"].endswith("ok") and lines["dtype (auto)"].endswith("ok")
    assert "every figure agrees" in out
    assert nvml.init_calls == nvml.shutdown_calls == 2  # the dtype's look and the sampler each close NVML


def test_without_a_gpu_it_says_so_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert gpu_check.main(["--seconds", "0.1"], facts=lambda: TorchFacts(False)) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("gpu-check: no GPU: torch sees no CUDA device")
    # torch sees a GPU but NVML cannot load: also no GPU check, in one line
    nvml = FakeNvml(init_error=NVMLError_LibraryNotFound())
    assert gpu_check.main(["--seconds", "0.1"], nvml=nvml, facts=lambda: H100) == 2
    assert capsys.readouterr().err.startswith("gpu-check: no GPU: NVML sees no GPU 0")


def test_without_a_gpu_here_the_real_script_exits_2() -> None:
    import subprocess

    torch_cuda = TorchFacts(False) == gpu_check.torch_facts()
    if not torch_cuda:
        pytest.skip("this machine has a GPU: make gpu-check runs the real check")
    done = subprocess.run([sys.executable, str(Path(gpu_check.__file__)), "--seconds", "1"], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().startswith("gpu-check: no GPU:") and len(done.stderr.strip().splitlines()) == 1
