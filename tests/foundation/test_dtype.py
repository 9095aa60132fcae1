"""The dtype a candidate is served in: native for the hardware, with the host facts faked.

The CPU facts are /proc/cpuinfo texts of the two kinds of host this project runs on
(AMD EPYC with AVX2 only; Intel/AMD with AVX512_BF16 and AMX); the GPU facts come
from the NVML fake (tests/support/fake_pynvml.py) with the compute capabilities of real cards.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.dtype import checkpoint_quant_method, choose_dtype, served_dtype
from harness.hardware import GpuFacts, HostFacts, gpu_facts, host_facts, read_cpuinfo, visible_gpu_ids
from harness.records import Candidate, VllmArgs
from harness.server.vllm_server import vllm_command
from tests.support.fake_pynvml import FakeDevice, FakeNvml, NVMLError_LibraryNotFound

AVX2_ONLY = (
    "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B12\n"
    "flags\t\t: fpu vme sse sse2 ssse3 fma cx16 sse4_1 sse4_2 avx f16c avx2 bmi2\n\n"
    "processor\t: 1\nmodel name\t: AMD EPYC 7B12\nflags\t\t: fpu sse avx avx2\n"
)
SAPPHIRE_RAPIDS = (
    "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8481C\n"
    "flags\t\t: fpu avx avx2 avx512f avx512bw avx512_bf16 avx512_fp16 amx_bf16 amx_tile amx_int8\n"
)
AMX_ONLY = "model name\t: hypothetical\nflags\t\t: avx2 avx512f amx_tile amx_bf16\n"
GRAVITON3 = "processor\t: 0\nBogoMIPS\t: 2100.00\nFeatures\t: fp asimd evtstrm aes sve bf16 i8mm\nCPU part\t: 0xd40\n"


def cpu(text: str) -> HostFacts:
    model, flags = read_cpuinfo(text)
    return HostFacts("cpu", model, flags)


def gpu(name: str, cc: tuple[int, int]) -> HostFacts:
    return HostFacts("gpu", gpus=(GpuFacts(name, cc),))


def test_cpuinfo_is_read_for_model_and_flags() -> None:
    model, flags = read_cpuinfo(AVX2_ONLY)
    assert model == "AMD EPYC 7B12"
    assert "avx2" in flags and "avx512_bf16" not in flags
    assert "bf16" in read_cpuinfo(GRAVITON3)[1]  # Arm lists them under "Features"


@pytest.mark.parametrize(
    ("cpuinfo", "expected"),
    [(AVX2_ONLY, "float32"), (SAPPHIRE_RAPIDS, "bfloat16"), (AMX_ONLY, "bfloat16"), (GRAVITON3, "bfloat16")],
)
def test_auto_on_cpu_is_bfloat16_only_where_it_is_native(cpuinfo: str, expected: str) -> None:
    choice = choose_dtype("auto", cpu(cpuinfo), "llama", "bfloat16")
    assert choice.dtype == expected
    assert choice.warning is None
    assert choice.reason.startswith("auto: CPU")


def test_auto_on_avx2_says_why_and_records_the_flags() -> None:
    choice = choose_dtype("auto", cpu(AVX2_ONLY), "llama", "bfloat16")
    assert "AMD EPYC 7B12" in choice.reason and "without AVX512_BF16 or AMX" in choice.reason
    assert choice.basis == {"device": "cpu", "cpu_model": "AMD EPYC 7B12", "cpu_flags": ["avx2"]}


@pytest.mark.parametrize(
    ("name", "cc", "expected"),
    [("NVIDIA H100 80GB HBM3", (9, 0), "bfloat16"), ("NVIDIA A100-SXM4-80GB", (8, 0), "bfloat16"),
     ("NVIDIA L4", (8, 9), "bfloat16"), ("Tesla T4", (7, 5), "float16"), ("Tesla V100-SXM2-32GB", (7, 0), "float16")],
)  # fmt: skip
def test_auto_on_gpu_follows_compute_capability(name: str, cc: tuple[int, int], expected: str) -> None:
    choice = choose_dtype("auto", gpu(name, cc), "qwen2", "bfloat16")
    assert choice.dtype == expected
    assert f"compute capability {cc[0]}.{cc[1]}" in choice.reason


def test_a_float16_unsafe_family_stays_float32_on_a_pre_ampere_gpu() -> None:
    for model_type in ("gemma3_text", "gemma2", "glm4"):
        choice = choose_dtype("auto", gpu("Tesla T4", (7, 5)), model_type, "bfloat16")
        assert choice.dtype == "float32", model_type
        assert "overflows in float16" in choice.reason
    # on an Ampere card the same model gets bfloat16
    assert choose_dtype("auto", gpu("NVIDIA A10G", (8, 6)), "gemma3_text", "bfloat16").dtype == "bfloat16"


def test_a_float16_checkpoint_stays_float16_where_float16_is_native() -> None:
    assert choose_dtype("auto", gpu("NVIDIA A100", (8, 0)), "llama", "float16").dtype == "float16"
    # CPUs compute float16 natively in neither kind here: bfloat16 with AVX512_BF16, float32 without
    assert choose_dtype("auto", cpu(SAPPHIRE_RAPIDS), "llama", "float16").dtype == "bfloat16"
    assert choose_dtype("auto", cpu(AVX2_ONLY), "llama", "torch.float16").dtype == "float32"


def test_mixed_gpus_choose_for_the_weakest() -> None:
    host = HostFacts("gpu", gpus=(GpuFacts("NVIDIA A100", (8, 0)), GpuFacts("Tesla V100", (7, 0))))
    assert choose_dtype("auto", host, "llama", "bfloat16").dtype == "float16"


def test_an_explicit_dtype_is_kept_with_a_warning_when_emulated() -> None:
    slow = choose_dtype("bfloat16", cpu(AVX2_ONLY), "llama", "bfloat16")
    assert slow.dtype == "bfloat16"
    assert slow.warning is not None and "emulated" in slow.warning and "auto would serve float32" in slow.warning
    refused = choose_dtype("bf16", gpu("Tesla T4", (7, 5)), "llama", "bfloat16")
    assert refused.dtype == "bfloat16" and refused.warning is not None and "refused by vLLM" in refused.warning
    native = choose_dtype("bfloat16", cpu(SAPPHIRE_RAPIDS), "llama", "bfloat16")
    assert native.dtype == "bfloat16" and native.warning is None
    assert choose_dtype("half", gpu("NVIDIA H100", (9, 0))).dtype == "float16"
    assert choose_dtype("float32", cpu(AVX2_ONLY)).warning is None


def test_an_unknown_dtype_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown dtype 'int4'"):
        choose_dtype("int4", cpu(AVX2_ONLY))


def test_host_facts_come_from_nvml_and_honour_the_pinned_gpus() -> None:
    nvml = FakeNvml([FakeDevice(name="NVIDIA H100 80GB HBM3", compute_capability=(9, 0)),
                     FakeDevice(name="Tesla T4", compute_capability=(7, 5))])  # fmt: skip
    assert gpu_facts(nvml) == (GpuFacts("NVIDIA H100 80GB HBM3", (9, 0)), GpuFacts("Tesla T4", (7, 5)))
    pinned = host_facts([0], nvml)
    assert pinned.device == "gpu" and [g.name for g in pinned.gpus] == ["NVIDIA H100 80GB HBM3"]
    assert choose_dtype("auto", pinned, "llama", "bfloat16").dtype == "bfloat16"
    assert choose_dtype("auto", host_facts([1], nvml), "llama", "bfloat16").dtype == "float16"
    assert nvml.initialized is False  # shut down again


def test_without_nvml_the_cpu_decides() -> None:
    facts = host_facts(None, FakeNvml(init_error=NVMLError_LibraryNotFound()))
    assert facts.device == "cpu" and facts.gpus == ()


def test_cuda_visible_devices_names_the_gpus() -> None:
    assert visible_gpu_ids({"CUDA_VISIBLE_DEVICES": "2,3"}) == [2, 3]
    assert visible_gpu_ids({}) is None
    assert visible_gpu_ids({"CUDA_VISIBLE_DEVICES": "GPU-5f1c2a"}) is None  # UUIDs: every GPU


def test_served_dtype_reads_the_checkpoint_and_the_server_command_gets_it(tmp_path: Path) -> None:
    model = tmp_path / "gemma"
    model.mkdir()
    (model / "config.json").write_text(
        json.dumps({"model_type": "gemma3_text", "torch_dtype": "bfloat16"}), encoding="utf-8"
    )
    nvml = FakeNvml([FakeDevice(name="Tesla T4", compute_capability=(7, 5))])
    choice = served_dtype("auto", str(model), {"CUDA_VISIBLE_DEVICES": "0"}, nvml)
    assert choice.dtype == "float32"
    cand = Candidate(name="g", model=str(model), vllm=VllmArgs())
    cmd = vllm_command(str(model), cand, 8000, None, choice.dtype)
    assert cmd[cmd.index("--dtype") + 1] == "float32"
    assert "auto" not in cmd


@pytest.mark.parametrize("method", ["awq", "gptq"])
def test_a_16_bit_only_quantization_is_served_in_16_bits_where_float32_would_be_picked(method: str) -> None:
    """vLLM refuses float32 for AWQ/GPTQ ("torch.float32 is not supported for quantization method awq"):
    an AVX2-only CPU serves such a checkpoint in emulated bfloat16, a pre-Ampere GPU in float16."""
    on_cpu = choose_dtype("auto", cpu(AVX2_ONLY), "llama", "float16", method)
    assert on_cpu.dtype == "bfloat16" and method in on_cpu.reason and "emulated" in on_cpu.reason
    assert choose_dtype("auto", gpu("Tesla T4", (7, 5)), "gemma3_text", "float16", method).dtype == "float16"
    # where 16 bits are native anyway, nothing changes; an unquantized checkpoint stays float32
    assert choose_dtype("auto", cpu(SAPPHIRE_RAPIDS), "llama", "float16", method).dtype == "bfloat16"
    assert choose_dtype("auto", cpu(AVX2_ONLY), "llama", "float16", None).dtype == "float32"


def test_the_quantization_method_is_read_from_the_checkpoint_config() -> None:
    assert checkpoint_quant_method({"quantization_config": {"quant_method": "awq", "bits": 4}}) == "awq"
    assert checkpoint_quant_method({"model_type": "llama"}) is None
    assert checkpoint_quant_method(None) is None
