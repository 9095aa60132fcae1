"""Train a tiny LoRA adapter on the CPU from chat JSONL (what `harness export-sft` writes); cached.

    python scripts/train_lora.py --model models/smollm2-135m-instruct --data models/lora/sft \
        --out models/lora/smollm2-support [--plant 3 question_sets/customer_support_en.yaml]

The adapter (peft ``save_pretrained``: ``adapter_config.json`` + ``adapter_model.safetensors``) is what
vLLM serves with ``--enable-lora``. The training data actually used is copied to ``OUT/train_data/``, so a
plan's ``train_data`` can point at exactly what the adapter saw; ``--plant N SET`` adds the first N
questions of SET with their references to it on purpose, to show the contamination check at work.

Training is a plain loop (AdamW, next-token loss over the whole conversation rendered by the model's
chat template): 30 steps of 2 examples for a rank-8 adapter on q_proj/v_proj, a few minutes on 2 cores.
A second call with the same inputs returns at once (``OUT/stamp.json`` holds their hash), like
``make models``. Needs the ``lora`` extra (peft).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.inputs.questions import load_question_set
from harness.inputs.sft import read_sft, sft_examples


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="local Hugging Face model folder (the base)")
    p.add_argument("--data", required=True, help="chat JSONL file or folder of them (harness export-sft)")
    p.add_argument("--out", required=True, help="adapter folder to write")
    p.add_argument("--plant", nargs=2, metavar=("N", "SET"), help="add N evaluated questions of SET on purpose")
    p.add_argument("--rank", type=int, default=8)
    p.add_argument("--targets", default="q_proj,v_proj", help="comma-separated module names to adapt")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--max-tokens", type=int, default=192, help="tokens per training example (longer are cut)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def training_data(args: argparse.Namespace) -> list[list[dict[str, str]]]:
    """The conversations to train on: ``--data`` plus, with ``--plant``, N evaluated questions."""
    conversations = read_sft(Path(args.data))
    if args.plant:
        n, set_path = int(args.plant[0]), Path(args.plant[1])
        qs = load_question_set(set_path)[0]
        qs = qs.model_copy(update={"questions": qs.questions[:n], "few_shot": []})
        conversations += [e.messages for e in sft_examples(qs, {}, include_questions=True)]
    return conversations


def _stamp(args: argparse.Namespace, conversations: list[list[dict[str, str]]]) -> str:
    settings = {k: v for k, v in vars(args).items() if k not in ("out",)}
    blob = json.dumps({"settings": settings, "data": conversations}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def train(args: argparse.Namespace, conversations: list[list[dict[str, str]]], out: Path) -> dict[str, Any]:
    """Fit the adapter and save it to ``out``; returns what happened (steps, loss first/last, seconds)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    tok = AutoTokenizer.from_pretrained(args.model)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    base = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
    config = LoraConfig(r=args.rank, lora_alpha=2 * args.rank, lora_dropout=0.0,
                        target_modules=args.targets.split(","), task_type="CAUSAL_LM")  # fmt: skip
    model = get_peft_model(base, config)
    texts = [tok.apply_chat_template(c, tokenize=False) for c in conversations]
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr)
    model.train()
    losses: list[float] = []
    started = time.monotonic()
    for _ in range(args.steps):
        batch = random.sample(texts, min(args.batch, len(texts)))
        enc = tok(batch, return_tensors="pt", padding=True, truncation=True, max_length=args.max_tokens)
        labels = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)
        loss = model(**enc, labels=labels).loss
        loss.backward()
        optimiser.step()
        optimiser.zero_grad()
        losses.append(float(loss.detach()))
        if len(losses) % 5 == 0:
            print(f"step {len(losses)}/{args.steps}: loss {losses[-1]:.3f}", file=sys.stderr, flush=True)
    model.save_pretrained(str(out))
    return {"steps": args.steps, "loss_first": losses[0], "loss_last": losses[-1],
            "seconds": round(time.monotonic() - started, 1), "examples": len(texts)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    out = Path(args.out)
    conversations = training_data(args)
    if not conversations:
        print(f"error: no training conversations in {args.data}", file=sys.stderr)
        return 2
    stamp = _stamp(args, conversations)
    stamp_file = out / "stamp.json"
    if stamp_file.is_file() and json.loads(stamp_file.read_text()).get("sha256") == stamp:
        print(f"{out}: up to date")
        return 0
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / "train_data").mkdir()
    lines = "".join(json.dumps({"messages": c}, ensure_ascii=False) + "\n" for c in conversations)
    (out / "train_data" / "train.jsonl").write_text(lines, encoding="utf-8")
    facts = train(args, conversations, out)
    stamp_file.write_text(json.dumps({"sha256": stamp, **facts}, indent=1))
    print(f"{out}: {facts['examples']} examples, {facts['steps']} steps in {facts['seconds']} s, "
          f"loss {facts['loss_first']:.3f} -> {facts['loss_last']:.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
