"""Write a 4-bit AWQ-format build of a small model by round-to-nearest: a quantized build the CPU vLLM serves.

    python scripts/quantize_awq_rtn.py --model models/smollm2-135m-instruct --out models/quant/smollm2-135m-awq-rtn

Every linear layer of the decoder (q/k/v/o, gate/up/down projections) is quantized per group of
``--group`` input channels to 4-bit unsigned integers with a zero point (asymmetric, round to nearest:
``q = clamp(round(w / s) + z, 0, 15)``, ``s = (max - min) / 15``) and packed in AutoAWQ's GEMM layout
(``qweight`` [in, out/8] int32 with the nibble order 0 2 4 6 1 3 5 7, ``qzeros`` the same, ``scales``
[in/group, out] float16), with ``quantization_config.quant_method: awq`` in config.json. It is not
activation-aware (no calibration): the file format and the kernels are AWQ's, the rounding is plain RTN,
the baseline any real AWQ/GPTQ build should beat. Embeddings, norms and the (tied) head stay as they are.

Cached: a second call with the same model and settings returns at once. Needs torch and safetensors only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
AWQ_ORDER = (0, 2, 4, 6, 1, 3, 5, 7)
"""Which of 8 consecutive output columns goes into nibble i of an int32 (AutoAWQ's GEMM packing)."""


def quantize(weight, group: int):  # type: ignore[no-untyped-def]
    """``weight`` [out, in] -> q [in, out] int32 in 0..15, zeros [in/group, out] int32, scales [in/group, out] fp16."""
    import torch

    out_f, in_f = weight.shape
    w = weight.float().reshape(out_f, in_f // group, group)
    lo, hi = w.amin(dim=2, keepdim=True), w.amax(dim=2, keepdim=True)
    scale = ((hi - lo) / 15).clamp(min=1e-8)
    zero = torch.round(-lo / scale).clamp(0, 15)
    q = torch.clamp(torch.round(w / scale) + zero, 0, 15).to(torch.int32).reshape(out_f, in_f)
    scales = scale.squeeze(2).t().contiguous().to(torch.float16)  # [in/group, out]
    zeros = zero.squeeze(2).t().contiguous().to(torch.int32)
    return q.t().contiguous(), zeros, scales


def pack(values):  # type: ignore[no-untyped-def]
    """[rows, cols] int32 in 0..15 -> [rows, cols/8] int32, 8 nibbles each in AWQ order."""
    import torch

    rows, cols = values.shape
    v = values.reshape(rows, cols // 8, 8)
    packed = torch.zeros(rows, cols // 8, dtype=torch.int32)
    for i, column in enumerate(AWQ_ORDER):
        packed |= v[:, :, column] << (4 * i)
    return packed


def convert(model: Path, out: Path, group: int) -> int:
    """Write the quantized folder; returns how many linear layers were quantized."""
    from safetensors.torch import load_file, save_file

    tensors = {}
    for file in sorted(model.glob("*.safetensors")):
        tensors.update(load_file(str(file)))
    result, done = {}, 0
    for name, tensor in tensors.items():
        module = name.rsplit(".", 2)
        if name.endswith(".weight") and len(module) == 3 and module[1] in LINEAR:
            q, zeros, scales = quantize(tensor, group)
            stem = name.removesuffix(".weight")
            result[f"{stem}.qweight"], result[f"{stem}.qzeros"] = pack(q), pack(zeros)
            result[f"{stem}.scales"] = scales
            done += 1
        else:
            result[name] = tensor.contiguous()
    out.mkdir(parents=True)
    save_file(result, str(out / "model.safetensors"), metadata={"format": "pt"})
    for extra in model.iterdir():
        if extra.is_file() and extra.suffix != ".safetensors" and extra.name != "config.json":
            shutil.copy2(extra, out / extra.name)
    config = json.loads((model / "config.json").read_text())
    config["quantization_config"] = {"quant_method": "awq", "bits": 4, "group_size": group, "zero_point": True,
                                     "version": "gemm"}  # fmt: skip
    config["torch_dtype"] = "float16"
    (out / "config.json").write_text(json.dumps(config, indent=2))
    return done


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, type=Path)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--group", type=int, default=64, help="input channels per scale (must divide every in-dimension)")
    args = p.parse_args(argv)
    digest = hashlib.sha256(f"{(args.model / 'model.safetensors').stat().st_size}:{args.group}:v1".encode()).hexdigest()
    stamp = args.out / "stamp.json"
    if stamp.is_file() and json.loads(stamp.read_text()).get("sha256") == digest:
        print(f"{args.out}: up to date")
        return 0
    if args.out.exists():
        shutil.rmtree(args.out)
    layers = convert(args.model, args.out, args.group)
    stamp.write_text(json.dumps({"sha256": digest, "layers": layers, "group": args.group}))
    print(f"{args.out}: {layers} linear layers in 4-bit AWQ format (round to nearest, group {args.group})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
