"""The physical-limit pre-screen: parameter counts, KV sizes, fit and the decode roofline.

Configs under tests/data/configs are copied from the public model cards' config.json.
Expected parameter counts are the published ones; transformers, instantiating the same
configs on the meta device, counts within 0.02% of ModelShape for every fixture.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.inputs.gpus import GPUS, MEMORY_LADDER_GB, by_memory, gpu
from harness.rollup.roofline import (
    GIB,
    ModelShape,
    Workload,
    decode_roofline_tok_per_s,
    estimate,
    fit,
    kv_bytes_per_token,
    kv_cache_bytes,
    memory_needed_bytes,
    smallest_gpu,
    valid_tp,
    weight_bytes,
)
from tests.support.files import DATA, MODELS

CONFIGS = DATA / "configs"


def config(name: str) -> dict[str, Any]:
    return json.loads((CONFIGS / f"{name}.json").read_text())


def shape(name: str) -> ModelShape:
    return ModelShape.from_config(config(name))


# --------------------------------------------------------------------------
# Parsing and parameter counts
# --------------------------------------------------------------------------

PUBLISHED = [
    # (fixture, total params, active params) as the model cards state them
    ("qwen2.5-7b-instruct", 7.62e9, 7.62e9),
    ("qwen2.5-0.5b", 0.49e9, 0.49e9),
    ("llama-3.1-70b-instruct", 70.6e9, 70.6e9),
    ("llama-2-7b-mha", 6.74e9, 6.74e9),
    ("mistral-7b-instruct-v0.3-gqa", 7.25e9, 7.25e9),
    ("mixtral-8x7b-instruct-moe", 46.7e9, 12.9e9),
    ("qwen3-30b-a3b-moe", 30.5e9, 3.3e9),
    ("gemma-3-4b-it-multimodal", 3.88e9, 3.88e9),  # the text model; the 4.3B total adds the vision tower
    ("qwen2.5-7b-instruct-awq", 7.62e9, 7.62e9),
]


@pytest.mark.parametrize(("name", "total", "active"), PUBLISHED)
def test_parameter_count_matches_the_model_card(name: str, total: float, active: float) -> None:
    s = shape(name)
    assert s.params == pytest.approx(total, rel=0.03)
    assert s.active_params == pytest.approx(active, rel=0.03)


def test_llama_70b_count_by_hand() -> None:
    embed = 128256 * 8192
    layer = 8192 * 128 * (2 * 64 + 2 * 8) + 2 * 8192 + 3 * 8192 * 28672  # q,o + k,v; 2 norms; gated MLP
    assert shape("llama-3.1-70b-instruct").params == 2 * embed + 80 * layer + 8192  # untied lm_head, final norm


def test_shapes_read_from_the_config() -> None:
    mha, gqa = shape("llama-2-7b-mha"), shape("qwen2.5-7b-instruct")
    assert (mha.num_attention_heads, mha.num_kv_heads, mha.head_dim, mha.dtype_bytes) == (32, 32, 128, 2)
    assert (gqa.num_attention_heads, gqa.num_kv_heads, gqa.head_dim, gqa.max_position_embeddings) == (28, 4, 128, 32768)
    assert shape("qwen3-30b-a3b-moe").head_dim == 128  # given, not hidden/heads (= 64)
    assert shape("qwen2.5-0.5b").lm_head_params == 0  # tied
    assert gqa.sliding_layers == 0  # Qwen2's sliding_window is off (use_sliding_window: false)


def test_multimodal_config_reads_text_config_and_its_defaults() -> None:
    s = shape("gemma-3-4b-it-multimodal")
    assert (s.num_layers, s.num_attention_heads, s.num_kv_heads, s.head_dim) == (34, 8, 4, 256)
    assert s.dtype_bytes == 2 and s.lm_head_params == 0  # dtype from the outer level; Gemma ties
    assert (s.sliding_window, s.sliding_layers) == (1024, 34 - 34 // 6)  # 5 global layers in 34


def test_missing_num_key_value_heads_means_multi_head_attention() -> None:
    cfg = {k: v for k, v in config("llama-2-7b-mha").items() if k != "num_key_value_heads"}
    assert ModelShape.from_config(cfg).num_kv_heads == 32


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hidden_size": None}, "hidden_size"),
        ({"num_attention_heads": "64"}, "num_attention_heads"),
        ({"torch_dtype": None}, "torch_dtype"),
        ({"torch_dtype": "int3"}, "torch_dtype"),
        ({"quantization_config": {"quant_method": "mystery"}}, "quantization_config.bits"),
        ({"kv_lora_rank": 512}, "kv_lora_rank"),
        ({"layer_types": ["full_attention", "linear_attention"]}, "layer_types"),
        ({"num_local_experts": 8}, "num_experts_per_tok"),
    ],
)
def test_unreadable_config_names_the_field(change: dict[str, Any], field: str) -> None:
    cfg = {k: v for k, v in {**config("llama-3.1-70b-instruct"), **change}.items() if v is not None}
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        ModelShape.from_config(cfg)


# --------------------------------------------------------------------------
# Weight and KV bytes
# --------------------------------------------------------------------------


def test_kv_bytes_per_token_by_hand() -> None:
    s = shape("llama-3.1-70b-instruct")
    assert kv_bytes_per_token(s) == 2 * 80 * 8 * 128 * 2 == 327_680
    assert kv_bytes_per_token(s, kv_dtype_bytes=1) == 163_840  # --kv-cache-dtype fp8
    assert kv_bytes_per_token(shape("llama-2-7b-mha")) == 2 * 32 * 32 * 128 * 2  # MHA: 4x a GQA model's
    assert kv_cache_bytes(s, 4096, 8) == 327_680 * 4096 * 8 == 10 * GIB


def test_bf16_weights_are_two_bytes_a_parameter() -> None:
    s = shape("qwen2.5-7b-instruct")
    assert weight_bytes(s) == 2 * s.params


def test_awq_4bit_weights_are_half_a_byte_a_parameter_plus_group_scales() -> None:
    s = shape("qwen2.5-7b-instruct-awq")
    assert (s.weight_bits, s.quant_group_size, s.kv_dtype_bytes) == (4, 128, 2)  # KV stays float16
    linear = s.layer_params
    embeddings = s.embedding_params + s.lm_head_params  # AWQ leaves them in float16
    assert linear + embeddings == s.params
    assert weight_bytes(s) == pytest.approx(linear * (0.5 + (2 + 0.5) / 128) + 2 * embeddings)
    assert weight_bytes(s) - 2 * embeddings == pytest.approx(linear / 2, rel=0.04)
    # On a 70B model the 16-bit embeddings (3% of the parameters) matter less: params/2 + 9%.
    llama = ModelShape.from_config({**config("llama-3.1-70b-instruct"), "quantization_config": {"bits": 4}})
    assert weight_bytes(llama) == llama.layer_params / 2 + 2 * (llama.embedding_params + llama.lm_head_params)
    assert weight_bytes(llama) == pytest.approx(llama.params / 2, rel=0.1)


def test_sliding_window_layers_cache_only_the_window() -> None:
    s = shape("gemma-3-4b-it-multimodal")
    per_layer = 2 * 4 * 256 * 2
    assert kv_cache_bytes(s, 512, 1) == 34 * 512 * per_layer  # shorter than the window: all layers hold it
    assert kv_cache_bytes(s, 32768, 1) == (5 * 32768 + 29 * 1024) * per_layer


def test_kv_heads_are_replicated_when_tp_exceeds_them() -> None:
    s = ModelShape.from_config({**config("mistral-7b-instruct-v0.3-gqa"), "num_key_value_heads": 2})
    assert valid_tp(s, 8)
    assert kv_cache_bytes(s, 1000, 1, tp=8) == 4 * kv_cache_bytes(s, 1000, 1, tp=2)


def test_memory_needed_adds_the_overhead_to_weights_and_kv() -> None:
    s = shape("qwen2.5-7b-instruct")
    base = weight_bytes(s) + kv_cache_bytes(s, 4096, 4)
    assert memory_needed_bytes(s, 4096, 4, overhead_fraction=0.1) == pytest.approx(1.1 * base)


# --------------------------------------------------------------------------
# Fit
# --------------------------------------------------------------------------


def test_7b_bf16_fits_one_24gb_gpu_at_short_context() -> None:
    s = shape("qwen2.5-7b-instruct")
    for name in ("L4", "A10G", "RTX4090"):
        assert fit(s, gpu(name), context_tokens=4096, concurrency=4) == 1
    assert fit(s, gpu("L4"), context_tokens=32768, concurrency=16) == 4  # 28 GiB of KV needs more GPUs


def test_70b_bf16_needs_two_80gb_gpus_and_never_fits_two_24gb() -> None:
    s = shape("llama-3.1-70b-instruct")
    for name in ("A100-80GB", "H100-80GB", "H200"):
        assert fit(s, gpu(name), context_tokens=4096, concurrency=1) == 2
    for name in ("L4", "A10G", "RTX4090"):
        assert fit(s, gpu(name), context_tokens=2048, concurrency=1, max_tp=2) is None
    assert fit(s, gpu("L40S"), context_tokens=4096, concurrency=8) == 4


def test_tp_must_divide_the_attention_heads() -> None:
    s = shape("qwen2.5-0.5b")  # 14 heads, 2 KV heads
    assert [tp for tp in (1, 2, 4, 8) if valid_tp(s, tp)] == [1, 2]
    huge = replace(s, layer_params=s.layer_params * 1000)  # fits nowhere at tp <= 2
    assert fit(huge, gpu("H200"), 1024, 1) is None


def test_group_quantized_mlp_must_split_on_group_boundaries() -> None:
    # Qwen2.5-72B's 29568-wide MLP does not split into 128-weight groups over 4 GPUs; its AWQ release pads it.
    cfg = {**config("llama-3.1-70b-instruct"), "intermediate_size": 29568, "quantization_config": {"bits": 4}}
    assert not valid_tp(ModelShape.from_config({**cfg, "quantization_config": {"bits": 4, "group_size": 128}}), 4)
    assert valid_tp(ModelShape.from_config(cfg), 4)  # per-channel scales: no constraint


def test_smallest_gpu_is_the_cheapest_smallest_rung_that_fits() -> None:
    cheapest_24gb = min((g for g in GPUS.values() if g.nominal_gb == 24), key=lambda g: g.price_usd_per_hour)
    assert smallest_gpu(shape("qwen2.5-0.5b"), 4096, 4) == (cheapest_24gb, 1)
    # 57 GiB of weights: 1 x 80 GB ties 2 x 40 GB on memory and is cheaper by the table's prices.
    assert smallest_gpu(shape("qwen3-30b-a3b-moe"), 4096, 4) == (gpu("A100-80GB"), 1)
    assert smallest_gpu(shape("llama-3.1-70b-instruct"), 4096, 4, [gpu("H200"), gpu("H100")]) == (gpu("H100"), 2)
    assert smallest_gpu(shape("llama-3.1-70b-instruct"), 4096, 4, [gpu("L4")], max_tp=4) is None


# --------------------------------------------------------------------------
# Roofline
# --------------------------------------------------------------------------


def test_roofline_by_hand_llama_70b_on_4_h100() -> None:
    params = shape("llama-3.1-70b-instruct").params
    embed = 128256 * 8192  # the input embedding is only indexed, not streamed
    step_bytes = (params - embed) * 2 + 327_680 * 4096 * 8
    expected = 8 / (step_bytes / (3350e9 * 4))
    got = decode_roofline_tok_per_s(shape("llama-3.1-70b-instruct"), gpu("H100"), 4, 4096, 8)
    assert got == pytest.approx(expected)
    assert got == pytest.approx(715.9, abs=0.1)


def test_roofline_rises_with_bandwidth_and_concurrency() -> None:
    s = shape("qwen2.5-7b-instruct")
    by_bandwidth = sorted(GPUS.values(), key=lambda g: g.bandwidth_gb_per_s)
    rates = [decode_roofline_tok_per_s(s, g, 1, 4096, 8) for g in by_bandwidth]
    assert rates == sorted(rates) and len(set(rates)) == len(rates)
    by_concurrency = [decode_roofline_tok_per_s(s, gpu("L4"), 1, 4096, c) for c in (1, 2, 4, 8, 16, 64)]
    assert by_concurrency == sorted(by_concurrency)
    assert decode_roofline_tok_per_s(s, gpu("L4"), 1, 32768, 8) < decode_roofline_tok_per_s(s, gpu("L4"), 1, 1024, 8)
    # One sequence on an L4: 300 GB/s over 15.23 GB of weights less the 1.09 GB input embedding = 21.2 tok/s.
    assert decode_roofline_tok_per_s(s, gpu("L4"), 1, 1, 1) == pytest.approx(300 / (15.231 - 1.090), abs=0.01)


def test_moe_reads_active_experts_alone_then_nearly_all_as_concurrency_grows() -> None:
    s = shape("mixtral-8x7b-instruct-moe")
    embed_bytes = 2 * s.embedding_params
    one = decode_roofline_tok_per_s(s, gpu("H100"), 2, 1, 1)
    kv = kv_bytes_per_token(s)
    assert one == pytest.approx(3350e9 * 2 / (2 * s.active_params - embed_bytes + kv))
    many = decode_roofline_tok_per_s(s, gpu("H100"), 2, 1, 64)  # every step touches all 8 experts
    assert many == pytest.approx(64 * 3350e9 * 2 / (2 * s.params - embed_bytes + 64 * kv), rel=1e-6)


# --------------------------------------------------------------------------
# estimate() and the GPU table
# --------------------------------------------------------------------------


def test_estimate_rows() -> None:
    rows = estimate(config("llama-3.1-70b-instruct"), Workload(4096, 8, max_tp=4), ["h100", "L4"],
                    prices_usd_per_hour={"H100-80GB": 2.5})  # fmt: skip
    h100, l4 = rows
    assert (h100.gpu, h100.tp, l4.gpu, l4.tp) == ("H100-80GB", 4, "L4", None)
    assert h100.weight_gib == pytest.approx(70.55e9 * 2 / GIB, rel=1e-3)
    assert h100.kv_gib == 10.0
    assert h100.needed_gib <= h100.usable_gib and l4.needed_gib > l4.usable_gib
    assert h100.price_usd_per_gpu_hour == 2.5 and l4.price_usd_per_gpu_hour == gpu("L4").price_usd_per_hour
    assert h100.roofline_out_tok_per_s is not None and h100.usd_per_mtok_at_roofline is not None
    assert h100.usd_per_mtok_at_roofline == pytest.approx(2.5 * 4 / (h100.roofline_out_tok_per_s * 3600) * 1e6)
    assert l4.roofline_out_tok_per_s is None and l4.usd_per_mtok_at_roofline is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((8192, 1, ["B300"]), "unknown GPU 'B300'; known GPUs: L4, A10G"),
        ((200_000, 1, ["H100"]), "exceeds max_position_embeddings 131072"),
        ((4096, 0, ["H100"]), "at least 1"),
    ],
)
def test_estimate_errors_say_what_to_fix(args: tuple[int, int, list[str]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        estimate(config("llama-3.1-70b-instruct"), Workload(*args[:2]), args[2])


def test_gpu_table() -> None:
    assert gpu("h100") is gpu("H100-80GB")
    assert gpu("rtx 4090") is gpu("RTX4090")
    assert gpu("a100 80gb") is gpu("A100-80GB")
    assert {g.nominal_gb for g in GPUS.values()} == set(MEMORY_LADDER_GB)
    assert [g.nominal_gb for g in by_memory()] == sorted(g.nominal_gb for g in GPUS.values())
    for g in GPUS.values():
        assert 0.9 * g.nominal_gb * 1e9 / GIB < g.memory_gib <= g.nominal_gb  # driver GiB vs marketed GB
        assert g.bandwidth_gb_per_s > 0 and g.price_usd_per_hour > 0


# --------------------------------------------------------------------------
# The demo models' real checkpoints
# --------------------------------------------------------------------------

DEMO = [
    ("smollm2-135m-instruct", 0.135e9),
    ("gemma-3-270m", 0.268e9),
    # The GGUF-converted demo checkpoint stores an untied lm_head (0.49B + 0.14B); the hub model ties it.
    ("qwen2.5-coder-0.5b-instruct", 0.630e9),
]


def safetensors_params(path: Path) -> int:
    """Parameters in a safetensors file, from its JSON header alone."""
    with path.open("rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    return sum(math.prod(t["shape"]) for k, t in header.items() if k != "__metadata__")


@pytest.mark.parametrize(("model", "params"), DEMO)
def test_demo_model_configs(model: str, params: float) -> None:
    path = MODELS / model / "config.json"
    if not path.exists():
        pytest.skip(f"{path} is not prepared (make models)")
    s = ModelShape.from_config(json.loads(path.read_text()))
    assert s.params == pytest.approx(params, rel=0.03)
    weights = path.parent / "model.safetensors"
    if weights.exists():
        assert s.params == pytest.approx(safetensors_params(weights), rel=0.001)
    assert fit(s, gpu("L4"), min(8192, s.max_position_embeddings), 16) == 1


def test_estimate_follows_the_dtype_served() -> None:
    """A float32 checkpoint is served in bfloat16 by ``auto`` on an H100 (2 bytes a weight), 4 when the plan says so."""
    from harness.dtype import dtype_on_gpu

    cfg = {**config("qwen2.5-7b-instruct"), "torch_dtype": "float32"}
    s = ModelShape.from_config(cfg)
    auto = estimate(cfg, Workload(4096, 8), ["H100"], dtype_on=dtype_on_gpu("auto", cfg))[0]
    fp32 = estimate(cfg, Workload(4096, 8), ["H100"], dtype_on=dtype_on_gpu("float32", cfg))[0]
    stored = estimate(cfg, Workload(4096, 8), ["H100"])[0]  # no served dtype given: the checkpoint's
    assert auto.weight_gib == pytest.approx(2 * s.params / GIB)
    assert fp32.weight_gib == pytest.approx(4 * s.params / GIB) == stored.weight_gib
    assert fp32.kv_gib == pytest.approx(2 * auto.kv_gib)  # the KV cache follows the activations
    assert auto.roofline_out_tok_per_s is not None and fp32.roofline_out_tok_per_s is not None
    assert auto.roofline_out_tok_per_s > fp32.roofline_out_tok_per_s  # half the bytes to stream per token


def test_a_quantized_model_keeps_its_weight_bits_when_served_in_another_dtype() -> None:
    s = shape("qwen2.5-7b-instruct-awq")
    served = s.served_as("bfloat16")
    assert (served.weight_bits, served.dtype_bytes, served.kv_dtype_bytes) == (4, 2, 2)
    assert s.served_as("float32").weight_bits == 4
