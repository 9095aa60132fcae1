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
from harness.rollup.perf_stats import usd_per_mtok

GIB = 2**30
TP_SIZES = (1, 2, 4, 8)
OVERHEAD_FRACTION = 0.05
"""Share of weights + KV added for vLLM's activation peak, CUDA graphs, NCCL buffers and
fragmentation: a few GiB on a 70B model. 0.1 would put Llama-70B bf16 (131 GiB of weights)
just over 2 x 80 GB at 0.9 utilisation, yet that is how it is commonly served."""

_DTYPE_BYTES = {"float32": 4, "float": 4, "float16": 2, "half": 2, "bfloat16": 2, "float8_e4m3fn": 1, "float8_e5m2": 1}
_NON_GATED_MLP = {"phi", "starcoder2", "gpt_neox", "gpt_bigcode", "opt"}
_DEFAULTS: dict[str, dict[str, Any]] = {
    # What transformers fills in when config.json omits it (gemma-3-4b/12b give few text_config keys).
    "gemma3_text": {
        "vocab_size": 262_208, "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256,
        "max_position_embeddings": 131_072, "tie_word_embeddings": True, "sliding_window": 4096,
        "sliding_window_pattern": 6,
    },
}  # fmt: skip
_UNMODELLED = {"kv_lora_rank": "latent attention (DeepSeek)", "interleave_moe_layer_step": "interleaved MoE (Llama 4)"}


@dataclass(frozen=True)
class ModelShape:
    """What the pre-screen needs from a config: parameter groups, attention shape, dtypes."""

    model_type: str
    num_layers: int
    num_attention_heads: int
    num_kv_heads: int
    head_dim: int
    embedding_params: int
    """One vocab x hidden table."""
    lm_head_params: int
    """0 when tied to the embedding; a config without ``tie_word_embeddings`` counts as untied (but Gemma)."""
    layer_params: int
    """Decoder layers minus routed experts (attention, dense MLPs, shared experts, routers, norms)."""
    expert_params: int
    """One routed expert summed over the MoE layers; 0 for a dense model."""
    num_experts: int
    experts_per_token: int
    intermediate_size: int
    """The MLP width tensor parallelism splits (the expert width for MoE)."""
    dtype_bytes: int
    """Activation dtype, which unquantized weights use too."""
    kv_dtype_bytes: int
    """KV cache dtype: the activation dtype unless replaced (e.g. 1 for ``--kv-cache-dtype fp8``)."""
    weight_bits: int
    """Bits per weight of the linear layers; ``8 * dtype_bytes`` unless quantized."""
    quant_group_size: int
    """Weights per (scale, zero point) pair of a group-quantized checkpoint; 0 for none."""
    quantized_lm_head: bool
    max_position_embeddings: int
    sliding_window: int | None
    sliding_layers: int
    """Layers that attend to (and cache) only the last ``sliding_window`` tokens."""

    @property
    def params(self) -> int:
        """All parameters: what has to sit in memory."""
        return self.embedding_params + self.lm_head_params + self.layer_params + self.expert_params * self.num_experts

    @property
    def active_params(self) -> int:
        """Parameters one token uses (all, for a dense model): the published "active" count."""
        routed = self.expert_params * self.experts_per_token
        return self.embedding_params + self.lm_head_params + self.layer_params + routed

    @property
    def quantized(self) -> bool:
        return self.weight_bits < 8 * self.dtype_bytes

    def served_as(self, dtype: str) -> ModelShape:
        """This model served in ``dtype`` (``--dtype``): activations, unquantized weights and a KV cache
        that follows the activations take its size; quantized weights keep their bits."""
        size = _DTYPE_BYTES[dtype]
        kv = size if self.kv_dtype_bytes == self.dtype_bytes else self.kv_dtype_bytes
        bits = self.weight_bits if self.quantized else 8 * size
        return replace(self, dtype_bytes=size, kv_dtype_bytes=kv, weight_bits=bits)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ModelShape:
        """Parse a Hugging Face ``config.json`` dict; ValueError names the field that is missing or odd."""
        text = config.get("text_config")  # multimodal: the language model's fields, under the outer dtype etc.
        cfg = {**config, "model_type": "", **text} if isinstance(text, Mapping) else dict(config)
        model_type = str(cfg.get("model_type", ""))
        cfg = {**_DEFAULTS.get(model_type, {}), **cfg}
        for key, what in _UNMODELLED.items():
            if cfg.get(key) is not None:
                raise ValueError(f"config.json field {key!r}: {what} is not modelled by the roofline pre-screen")
        hidden, layers = _int(cfg, "hidden_size"), _int(cfg, "num_hidden_layers")
        heads = _int(cfg, "num_attention_heads")
        kv_heads = _int(cfg, "num_key_value_heads", default=heads)  # absent: multi-head attention
        head_dim = _int(cfg, "head_dim", default=hidden // heads)
        vocab, inter = _int(cfg, "vocab_size"), _int(cfg, "intermediate_size")
        dtype = str(cfg.get("torch_dtype") or cfg.get("dtype") or "missing").removeprefix("torch.")
        if dtype not in _DTYPE_BYTES:
            raise ValueError(f"config.json field 'torch_dtype' is {dtype}; expected one of {', '.join(_DTYPE_BYTES)}")
        dtype_bytes = _DTYPE_BYTES[dtype]
        weight_bits, group, q_head = _quantization(cfg.get("quantization_config"), dtype_bytes)
        attention = hidden * head_dim * (2 * heads + 2 * kv_heads) + 2 * hidden  # q, o, k, v, two norms
        dense_mlp = (2 if model_type in _NON_GATED_MLP else 3) * hidden * inter

        experts = _int(cfg, "num_local_experts", "num_experts", default=0, minimum=0)
        per_token = _int(cfg, "num_experts_per_tok") if experts else 0
        expert_inter = _int(cfg, "moe_intermediate_size", default=inter)
        shared = _int(cfg, "shared_expert_intermediate_size", default=0, minimum=0)
        step, dense_only = _int(cfg, "decoder_sparse_step", default=1), set(cfg.get("mlp_only_layers") or ())
        moe_layers = sum(1 for i in range(layers) if experts and i not in dense_only and (i + 1) % step == 0)
        moe_fixed = hidden * experts + (3 * hidden * shared + hidden if shared else 0)  # router, shared expert
        window = cfg.get("sliding_window")
        return cls(
            model_type=model_type,
            num_layers=layers,
            num_attention_heads=heads,
            num_kv_heads=kv_heads,
            head_dim=head_dim,
            embedding_params=vocab * hidden,
            lm_head_params=0 if cfg.get("tie_word_embeddings", model_type.startswith("gemma")) else vocab * hidden,
            layer_params=layers * attention + (layers - moe_layers) * dense_mlp + moe_layers * moe_fixed + hidden,
            expert_params=moe_layers * 3 * hidden * expert_inter,
            num_experts=experts,
            experts_per_token=per_token,
            intermediate_size=expert_inter if experts else inter,
            dtype_bytes=dtype_bytes,
            kv_dtype_bytes=dtype_bytes,
            weight_bits=weight_bits,
            quant_group_size=group,
            quantized_lm_head=q_head,
            max_position_embeddings=_int(cfg, "max_position_embeddings"),
            sliding_window=window if isinstance(window, int) and window > 0 else None,
            sliding_layers=_sliding_layers(cfg, layers),
        )


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


def estimate(
    config: Mapping[str, Any],
    context_tokens: int,
    concurrency: int,
    gpu_names: Sequence[str],
    *,
    gpu_memory_utilization: float = 0.9,
    max_tp: int = 8,
    kv_dtype_bytes: int | None = None,
    prices_usd_per_hour: Mapping[str, float] | None = None,
    dtype_on: Callable[[GPU], str] | None = None,
) -> list[Estimate]:
    """Pre-screen one model (a parsed ``config.json``) on each named GPU, in the order given.

    ``prices_usd_per_hour`` (GPU name -> USD per GPU-hour, e.g. the plan's
    ``perf.gpu_prices_usd_per_hour``) overrides the table's ballpark prices. ``dtype_on(gpu)``
    names the dtype the model is served in on that GPU (:func:`harness.dtype.choose_dtype`);
    without it, the checkpoint's ``torch_dtype``.
    Raises ValueError for an unknown GPU, a config it cannot read, or a context
    longer than the model's ``max_position_embeddings``.
    """
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
        if kv_dtype_bytes:
            shape = replace(shape, kv_dtype_bytes=kv_dtype_bytes)
        tp = fit(shape, g, context_tokens, concurrency, gpu_memory_utilization, max_tp)
        at = tp or max(_tp_sizes(shape, max_tp))
        tok_s = decode_roofline_tok_per_s(shape, g, tp, context_tokens, concurrency) if tp else None
        price = prices.get(g.name, g.price_usd_per_hour)
        rows.append(
            Estimate(
                gpu=g.name,
                tp=tp,
                weight_gib=weight_bytes(shape) / GIB,
                kv_gib=kv_cache_bytes(shape, context_tokens, concurrency, at) / GIB,
                needed_gib=memory_needed_bytes(shape, context_tokens, concurrency, tp=at) / GIB,
                usable_gib=usable_bytes(g, at, gpu_memory_utilization) / GIB,
                roofline_out_tok_per_s=tok_s,
                price_usd_per_gpu_hour=price,
                usd_per_mtok_at_roofline=usd_per_mtok(price, tp, tok_s) if tp else None,
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


def _int(cfg: Mapping[str, Any], *names: str, default: int | None = None, minimum: int = 1) -> int:
    """The first of ``names`` that is set, checked to be an integer >= ``minimum``."""
    for name in names:
        value = cfg.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"config.json field {name!r} must be an integer >= {minimum}, got {value!r}")
        return value
    if default is None:
        raise ValueError(f"config.json has no {' or '.join(repr(n) for n in names)}, which the roofline needs")
    return default


def _quantization(q: Any, dtype_bytes: int) -> tuple[int, int, bool]:
    """(weight bits, group size, lm_head quantized) from ``quantization_config``.

    AWQ and GPTQ keep embeddings (and the lm_head unless ``lm_head`` is set) in the
    activation dtype; none of these methods touch the KV cache.
    """
    if not isinstance(q, Mapping):
        return 8 * dtype_bytes, 0, False
    method = str(q.get("quant_method", "")).lower()
    bits, group = q.get("bits", q.get("w_bit")), q.get("group_size", q.get("q_group_size"))
    if method == "fp8":
        bits = 8
    elif method == "bitsandbytes":
        bits = 4 if q.get("load_in_4bit") else 8 if q.get("load_in_8bit") else None
    elif method == "compressed-tensors":
        weights = [g.get("weights") or {} for g in (q.get("config_groups") or {}).values()]
        bits = next((w.get("num_bits") for w in weights if w.get("num_bits")), None)
        group = next((w.get("group_size") for w in weights if w.get("group_size")), None)
    if bits not in (2, 3, 4, 8):
        raise ValueError(
            f"config.json field 'quantization_config.bits': cannot tell the weight bits of "
            f"quant_method {method or '(none)'!r}; expected 2, 3, 4 or 8"
        )
    return int(bits), max(int(group or 0), 0), bool(q.get("lm_head", False))


def _sliding_layers(cfg: Mapping[str, Any], layers: int) -> int:
    """Sliding-window layers, from ``layer_types`` or Gemma 3's ``sliding_window_pattern``.

    A bare ``sliding_window`` is not enough: Qwen2 configs carry one with ``use_sliding_window: false``.
    """
    types = cfg.get("layer_types")
    unknown = set(types or ()) - {"full_attention", "sliding_attention"}
    if unknown:
        raise ValueError(f"config.json field 'layer_types': {sorted(unknown)} layers are not modelled")
    pattern = cfg.get("sliding_window_pattern", cfg.get("_sliding_window_pattern"))
    if not cfg.get("sliding_window"):
        return 0
    if types is not None:
        return sum(1 for t in types if t == "sliding_attention")
    return layers - layers // pattern if isinstance(pattern, int) and pattern > 0 else 0
