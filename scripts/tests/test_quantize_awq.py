"""scripts/quantize_awq_rtn.py: 4-bit round-to-nearest in AutoAWQ's packed layout, checked by hand and round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from torch import Tensor

torch = pytest.importorskip("torch")
from quantize_awq_rtn import AWQ_ORDER, convert, pack, quantize  # noqa: E402


def _unpack(packed: Tensor) -> Tensor:
    """Independent reading of the AWQ layout: nibble i of int32 column c holds output column 8c + AWQ_ORDER[i]."""
    rows, cols = packed.shape
    out = torch.zeros(rows, cols * 8, dtype=torch.int32)
    for i, column in enumerate(AWQ_ORDER):
        out[:, torch.arange(cols) * 8 + column] = (packed >> (4 * i)) & 15
    return out


def test_pack_puts_column_order_0_2_4_6_1_3_5_7_into_nibbles() -> None:
    # Columns 0..7 hold the values 1..8: nibble i (bits 4i..4i+3) holds column AWQ_ORDER[i], i.e. the value
    # AWQ_ORDER[i] + 1 -> nibbles 1, 3, 5, 7, 2, 4, 6, 8 from the lowest.
    packed = pack(torch.arange(1, 9, dtype=torch.int32).reshape(1, 8))
    expected = sum(v << (4 * i) for i, v in enumerate([1, 3, 5, 7, 2, 4, 6, 8]))
    assert packed.shape == (1, 1) and int(packed[0, 0]) & 0xFFFFFFFF == expected  # int32: the top nibble sets the sign


def test_a_row_spanning_0_to_15_quantizes_exactly() -> None:
    # One output row, one group of 16 inputs with values 0..15 * 0.1: min 0, max 1.5 -> scale 0.1, zero 0,
    # so q is the integer itself and dequantizing gives the weight back.
    weight = (torch.arange(16, dtype=torch.float32) * 0.1).reshape(1, 16)
    q, zeros, scales = quantize(weight, group=16)
    assert q.shape == (16, 1) and q[:, 0].tolist() == list(range(16))
    assert zeros.tolist() == [[0]] and float(scales[0, 0]) == pytest.approx(0.1, rel=1e-3)


def test_round_trip_error_is_at_most_half_a_step() -> None:
    torch.manual_seed(0)
    weight = torch.randn(16, 128)
    q, zeros, scales = quantize(weight, group=64)
    got_q, got_z = _unpack(pack(q)), _unpack(pack(zeros))
    assert torch.equal(got_q, q) and torch.equal(got_z, zeros)
    deq = ((got_q - got_z.repeat_interleave(64, 0)) * scales.float().repeat_interleave(64, 0)).t()
    step = scales.float().repeat_interleave(64, 0).t()
    # Round to nearest: each weight is within half a step (plus float16 rounding of the scale).
    assert bool(((deq - weight).abs() <= step * 0.5 + 1e-2 * step + 1e-6).all())


def test_convert_writes_awq_tensors_and_config(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    model = tmp_path / "m"
    model.mkdir()
    save_file({"model.layers.0.self_attn.q_proj.weight": torch.randn(8, 64),
               "model.norm.weight": torch.ones(64)}, str(model / "model.safetensors"))  # fmt: skip
    (model / "config.json").write_text(json.dumps({"hidden_size": 64}))
    assert convert(model, tmp_path / "q", group=32) == 1
    tensors = load_file(str(tmp_path / "q" / "model.safetensors"))
    stem = "model.layers.0.self_attn.q_proj"
    assert {k: tuple(v.shape) for k, v in tensors.items()} == {
        f"{stem}.qweight": (64, 1), f"{stem}.qzeros": (2, 1), f"{stem}.scales": (2, 8), "model.norm.weight": (64,)
    }  # fmt: skip
    config = json.loads((tmp_path / "q" / "config.json").read_text())
    assert config["quantization_config"] == {"quant_method": "awq", "bits": 4, "group_size": 32, "zero_point": True,
                                             "version": "gemm"}  # fmt: skip
