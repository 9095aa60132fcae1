"""The shape of a checkpoint, read from its ``config.json`` alone: parameter groups, attention,
dtypes, quantization, sliding windows (:class:`ModelShape`).

Pure and dependency-free, so the roll-up's roofline (:mod:`harness.rollup.roofline`) and the judge's
model facts (:mod:`harness.scoring.judge.modelinfo`) share one reading of a config. Modelled and
unmodelled architectures: see :mod:`harness.rollup.roofline`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

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
