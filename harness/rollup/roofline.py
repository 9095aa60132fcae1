"""Physical-limit pre-screen: will a model fit on a GPU, and how fast can it decode at best?

Before spending GPU hours on a candidate, two numbers follow from its
``config.json`` alone. Memory: weights plus the KV cache of every running
sequence must fit in what vLLM may use. Speed: decoding one token per running
sequence reads every weight once plus every sequence's KV cache, so memory
bandwidth caps output tokens per second. A candidate whose *best case* misses
the target is dropped without being served; one that passes still has to be
measured: real kernels reach 70-90% of peak bandwidth, prefill competes for the
GPU, and at high concurrency compute, not memory, becomes the limit (none of
which this bound models).

Modelled: decoder-only transformers with gated MLPs (Llama, Qwen2/3, Mistral,
Gemma, SmolLM...) and a few non-gated families, mixture-of-experts (Mixtral,
Qwen MoE), grouped-query attention, sliding-window layers, AWQ/GPTQ/fp8/
compressed-tensors/bitsandbytes weights. Multimodal configs are read through
``text_config``; their vision tower (a few hundred million parameters) and
biases (<0.1%) are not counted. Architectures this would get wrong (latent
attention, linear-attention hybrids, interleaved MoE) raise ValueError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from harness.inputs.gpus import GPU, GPUS, gpu
from harness.modelshape import ModelShape
from harness.timing import usd_per_mtok

GIB = 2**30
TP_SIZES = (1, 2, 4, 8)
OVERHEAD_FRACTION = 0.05
"""Share of weights + KV added for vLLM's activation peak, CUDA graphs, NCCL buffers and
fragmentation: a few GiB on a 70B model. 0.1 would put Llama-70B bf16 (131 GiB of weights)
just over 2 x 80 GB at 0.9 utilisation, yet that is how it is commonly served."""


def weight_bytes(shape: ModelShape) -> float:
    """Bytes of weights in GPU memory, every expert included."""
    return _weights(shape, shape.num_experts, input_embedding=True)


def kv_bytes_per_token(shape: ModelShape, kv_dtype_bytes: int | None = None) -> int:
    """KV bytes one token adds in full attention: 2 (K and V) x layers x KV heads x head dim x bytes."""
    return 2 * shape.num_layers * shape.num_kv_heads * shape.head_dim * (kv_dtype_bytes or shape.kv_dtype_bytes)


def kv_cache_bytes(shape: ModelShape, context_tokens: int, concurrency: int, tp: int = 1) -> float:
    """KV cache of ``concurrency`` sequences of ``context_tokens`` each, summed over ``tp`` GPUs.

    Sliding-window layers keep only the window. With more GPUs than KV heads, vLLM
    gives each GPU a copy of a head, so the total grows with tp.
    """
    window = min(context_tokens, shape.sliding_window or context_tokens)
    tokens = (shape.num_layers - shape.sliding_layers) * context_tokens + shape.sliding_layers * window
    replication = max(shape.num_kv_heads, tp) / shape.num_kv_heads
    return kv_bytes_per_token(shape) / shape.num_layers * tokens * concurrency * replication


def memory_needed_bytes(
    shape: ModelShape, context_tokens: int, concurrency: int, overhead_fraction: float = OVERHEAD_FRACTION, tp: int = 1
) -> float:
    """Weights + KV cache for context x concurrency, plus ``overhead_fraction`` of both (see OVERHEAD_FRACTION)."""
    return (weight_bytes(shape) + kv_cache_bytes(shape, context_tokens, concurrency, tp)) * (1 + overhead_fraction)


def valid_tp(shape: ModelShape, tp: int) -> bool:
    """Whether vLLM can split the model over ``tp`` GPUs: attention heads divide evenly, KV heads divide
    or replicate, and a group-quantized MLP splits on group boundaries."""
    kv_ok = shape.num_kv_heads % tp == 0 or tp % shape.num_kv_heads == 0
    groups_ok = not shape.quant_group_size or (shape.intermediate_size // tp) % shape.quant_group_size == 0
    return shape.num_attention_heads % tp == 0 and kv_ok and groups_ok


def usable_bytes(gpu: GPU, tp: int, gpu_memory_utilization: float = 0.9) -> float:
    """What vLLM may allocate on ``tp`` GPUs: its ``--gpu-memory-utilization`` share of each."""
    return gpu.memory_gib * GIB * gpu_memory_utilization * tp


def fit(
    shape: ModelShape,
    gpu: GPU,
    context_tokens: int,
    concurrency: int,
    gpu_memory_utilization: float = 0.9,
    max_tp: int = 8,
) -> int | None:
    """The smallest tensor-parallel size (1, 2, 4, 8 up to ``max_tp``) whose memory holds the model, or None."""
    for tp in _tp_sizes(shape, max_tp):
        needed = memory_needed_bytes(shape, context_tokens, concurrency, tp=tp)
        if needed <= usable_bytes(gpu, tp, gpu_memory_utilization):
            return tp
    return None


def decode_roofline_tok_per_s(shape: ModelShape, gpu: GPU, tp: int, context_tokens: int, concurrency: int) -> float:
    """Best-case output tokens/s of steady decode, from memory bandwidth alone.

    A decode step makes one token for each of ``concurrency`` sequences and reads at
    least every weight it uses once (the input embedding table is only indexed, so
    an untied one is skipped) plus every sequence's KV cache at ``context_tokens``;
    the ``tp`` GPUs stream in parallel: step time = bytes / (bandwidth x tp),
    tok/s = concurrency / step time. A MoE step reads the experts its tokens route
    to: k of E for one sequence, E x (1 - (1 - k/E)^concurrency) on average under
    uniform routing. Compute, kernel efficiency, prefill and interconnect are
    ignored, so real serving is slower.
    """
    experts = 0.0
    if shape.num_experts:
        experts = shape.num_experts * (1 - (1 - shape.experts_per_token / shape.num_experts) ** concurrency)
    read = _weights(shape, experts, input_embedding=False) + kv_cache_bytes(shape, context_tokens, concurrency, tp)
    return concurrency / (read / (gpu.bandwidth_gb_per_s * 1e9 * tp))


def smallest_gpu(
    shape: ModelShape,
    context_tokens: int,
    concurrency: int,
    gpus: Sequence[GPU] | None = None,
    gpu_memory_utilization: float = 0.9,
    max_tp: int = 8,
    dtype_on: Callable[[GPU], str] | None = None,
) -> tuple[GPU, int] | None:
    """The (GPU, tp) that fits with the least memory, the cheaper per hour on a tie; None if none fits.

    Memory counts nominal GB x tp, so 4 x 48 GB ties with 8 x 24 GB and the price decides.
    ``gpus`` defaults to the whole table (the 24/40/48/80/141 GB ladder). ``dtype_on(gpu)``
    names the dtype the model would be served in there (default: the checkpoint's).
    """
    options = []
    for g in GPUS.values() if gpus is None else gpus:
        served = shape.served_as(dtype_on(g)) if dtype_on else shape
        tp = fit(served, g, context_tokens, concurrency, gpu_memory_utilization, max_tp)
        if tp is not None:
            options.append((g.nominal_gb * tp, g.price_usd_per_hour * tp, g, tp))
    return min(options, key=lambda o: o[:2])[2:] if options else None


@dataclass(frozen=True)
class Estimate:
    """One pre-screen row: a model on one GPU type. ``dataclasses.asdict`` gives the JSON/CSV row."""

    gpu: str
    tp: int | None
    """Smallest tensor-parallel size that fits; None when nothing up to max_tp does."""
    weight_gib: float
    kv_gib: float
    """KV cache for context x concurrency at tp (at the largest tp tried when it does not fit)."""
    needed_gib: float
    """Weights + KV + overhead, at the same tp as kv_gib."""
    usable_gib: float
    """What vLLM may use on those GPUs: compare with needed_gib."""
    roofline_out_tok_per_s: float | None
    """Best-case decode output tokens/s; None when it does not fit."""
    price_usd_per_gpu_hour: float
    usd_per_mtok_at_roofline: float | None
    """price x tp / (tok/s x 3600) x 1e6: a floor, as real throughput is lower."""
    plan_tp: int | None = None
    """The tensor-parallel size the plan serves it with (``Workload.tp``); None: not given. When given,
    kv_gib, needed_gib, usable_gib, the roofline and its $ are figured at it, not at ``tp``."""
    plan_tp_fits: bool | None = None
    """Whether the plan's tensor-parallel size can serve it: a valid split (heads divide) whose memory holds
    it; None without ``plan_tp``."""


@dataclass(frozen=True)
class Workload:
    """What a pre-screen sizes the server for: ``concurrency`` sequences of ``context_tokens`` each, in
    ``gpu_memory_utilization`` of each GPU's memory, split over at most ``max_tp`` GPUs (tensor parallel);
    ``kv_dtype_bytes`` overrides the KV cache's bytes per value (None: the served dtype's)."""

    context_tokens: int
    concurrency: int
    gpu_memory_utilization: float = 0.9
    max_tp: int = 8
    kv_dtype_bytes: int | None = None
    tp: int | None = None
    """The plan's tensor-parallel size: figure memory and speed at it (None: at the smallest that fits)."""


def estimate(
    config: Mapping[str, Any],
    load: Workload,
    gpu_names: Sequence[str],
    *,
    prices_usd_per_hour: Mapping[str, float] | None = None,
    dtype_on: Callable[[GPU], str] | None = None,
) -> list[Estimate]:
    """Pre-screen one model (a parsed ``config.json``) for ``load`` on each named GPU, in the order given.

    ``prices_usd_per_hour`` (GPU name -> USD per GPU-hour, e.g. the plan's
    ``perf.gpu_prices_usd_per_hour``) overrides the table's ballpark prices. ``dtype_on(gpu)``
    names the dtype the model is served in on that GPU (:func:`harness.dtype.choose_dtype`);
    without it, the checkpoint's ``torch_dtype``.
    Raises ValueError for an unknown GPU, a config it cannot read, or a context
    longer than the model's ``max_position_embeddings``.
    """
    context_tokens, concurrency, utilization = load.context_tokens, load.concurrency, load.gpu_memory_utilization
    if context_tokens < 1 or concurrency < 1:
        raise ValueError(f"context_tokens and concurrency must be at least 1, got {context_tokens} and {concurrency}")
    stored = ModelShape.from_config(config)
    if context_tokens > stored.max_position_embeddings:
        raise ValueError(
            f"context_tokens {context_tokens} exceeds max_position_embeddings {stored.max_position_embeddings} in "
            "config.json; lower it, or raise that field in a copy of the config if rope scaling extends the context"
        )
    prices = {gpu(name).name: usd for name, usd in (prices_usd_per_hour or {}).items()}
    rows = []
    for g in (gpu(name) for name in gpu_names):
        shape = stored.served_as(dtype_on(g)) if dtype_on else stored
        if load.kv_dtype_bytes:
            shape = replace(shape, kv_dtype_bytes=load.kv_dtype_bytes)
        tp = fit(shape, g, context_tokens, concurrency, utilization, load.max_tp)
        at = load.tp or tp or max(_tp_sizes(shape, load.max_tp))
        fits = None
        if load.tp:
            fits = valid_tp(shape, load.tp) and memory_needed_bytes(
                shape, context_tokens, concurrency, tp=load.tp
            ) <= usable_bytes(g, load.tp, utilization)
        served_at = load.tp if fits else (None if load.tp else tp)
        tok_s = decode_roofline_tok_per_s(shape, g, served_at, context_tokens, concurrency) if served_at else None
        price = prices.get(g.name, g.price_usd_per_hour)
        rows.append(
            Estimate(
                gpu=g.name,
                tp=tp,
                weight_gib=weight_bytes(shape) / GIB,
                kv_gib=kv_cache_bytes(shape, context_tokens, concurrency, at) / GIB,
                needed_gib=memory_needed_bytes(shape, context_tokens, concurrency, tp=at) / GIB,
                usable_gib=usable_bytes(g, at, utilization) / GIB,
                roofline_out_tok_per_s=tok_s,
                price_usd_per_gpu_hour=price,
                usd_per_mtok_at_roofline=usd_per_mtok(price, served_at, tok_s) if served_at else None,
                plan_tp=load.tp,
                plan_tp_fits=fits,
            )
        )
    return rows


def _weights(shape: ModelShape, experts: float, *, input_embedding: bool) -> float:
    """Weight bytes with ``experts`` routed experts per MoE layer; quantized layers at their bits."""
    linear = shape.layer_params + shape.expert_params * experts
    if shape.quantized:
        groups = (shape.dtype_bytes + shape.weight_bits / 8) / shape.quant_group_size if shape.quant_group_size else 0
        linear_bytes = linear * (shape.weight_bits / 8 + groups)  # a 16-bit scale + a zero point per group
    else:
        linear_bytes = linear * shape.dtype_bytes
    if not shape.lm_head_params:  # tied: the embedding table is the lm_head, read at every step
        return linear_bytes + shape.embedding_params * shape.dtype_bytes
    head_bits = shape.weight_bits if shape.quantized_lm_head else 8 * shape.dtype_bytes
    embed = shape.embedding_params * shape.dtype_bytes if input_embedding else 0
    return linear_bytes + shape.lm_head_params * head_bits / 8 + embed


def _tp_sizes(shape: ModelShape, max_tp: int) -> list[int]:
    return [tp for tp in TP_SIZES if tp <= max_tp and valid_tp(shape, tp)]
