"""Where a plan's ``model`` lives: a local folder (resolved against the plan's folder) or a hub id."""

from __future__ import annotations

from pathlib import Path

__all__ = ["looks_like_path", "resolve_model"]


def looks_like_path(model: str) -> bool:
    return model.startswith(("./", "../", "/", "~")) or model in (".", "..")


def resolve_model(base: Path, model: str) -> Path | None:
    """The local directory for ``model``, or None when it is a hub id."""
    candidate = (base / Path(model).expanduser()).resolve()
    if looks_like_path(model) or candidate.is_dir():
        return candidate
    return None
