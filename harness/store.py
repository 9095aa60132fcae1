"""Results store: JSON Lines record files and atomic writes.

Records are appended one per line and flushed to disk one by one, so a killed
run loses at most the line being written. A torn last line (no newline at the
end) is ignored by readers and cut off by :func:`repair` before appending. Any
other line that is not a valid record stops the reader with a
:class:`~harness.schema.RecordError` naming the file and line; records of older
versions are upgraded on reading, newer ones refused (:mod:`harness.schema`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from harness.records import SCHEMA_VERSION
from harness.schema import RecordError, upgrade

R = TypeVar("R", bound=BaseModel)
V = TypeVar("V")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder, then rename over ``path``."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600: give the file the mode open() would
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, obj: object) -> None:
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in chunks by :func:`hashlib.file_digest` (a GGUF of gigabytes too)."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def write_records(path: Path, records: list[BaseModel]) -> None:
    """Replace ``path`` with ``records`` atomically (for derived stages like scoring)."""
    atomic_write_text(path, "".join(r.model_dump_json() + "\n" for r in records))


def repair(path: Path) -> int:
    """Cut a torn last line left by a kill; return the number of bytes removed."""
    if not path.exists():
        return 0
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return 0
    keep = data.rfind(b"\n") + 1
    with path.open("r+b") as f:
        f.truncate(keep)
    return len(data) - keep


def resume_records(path: Path, model: type[R], keep: Callable[[R], bool]) -> tuple[list[R], int, int]:
    """Records to resume from: cut a torn last line, then drop (and rewrite without) those ``keep`` rejects.

    Returns the kept records, the bytes cut and the number dropped; a dropped
    record (a failed request) is asked again, so each key stays in the file once.
    """
    cut = repair(path)
    records = read_records(path, model)
    kept = [r for r in records if keep(r)]
    if len(kept) != len(records):
        write_records(path, list(kept))
    return kept, cut, len(records) - len(kept)


def read_records(path: Path, model: type[R]) -> list[R]:
    """All complete records in ``path`` (a torn last line is skipped)."""
    return list(iter_records(path, model))


def iter_records(path: Path, model: type[R]) -> Iterator[R]:
    """Records of ``path`` in order; :class:`RecordError` at the first line that is not one."""
    if not path.exists():
        return
    with path.open("rb") as f:
        for lineno, raw in enumerate(f, 1):
            if not raw.endswith(b"\n"):
                return  # torn by a kill mid-write
            rec = _current(raw, model)
            if rec is not None:
                yield rec  # the common case: a record of this version, validated from its bytes
                continue
            rec = _slow(raw, model, path, lineno)
            if rec is not None:
                yield rec


def iter_projected(path: Path, model: type[R], view: TypeAdapter[V]) -> Iterator[V]:
    """The records of ``path`` as ``view``: a TypedDict of some of ``model``'s fields, validated, the rest skipped.

    What :func:`iter_records` yields, with only the fields a reader uses: a line of the current
    schema_version is validated straight into the view (about half the time of building the
    whole record); any other line (an older version to upgrade, a record missing a field that
    has a default, an error to name) takes :func:`iter_records`' path and is then projected.
    """
    if not path.exists():
        return
    with path.open("rb") as f:
        for lineno, raw in enumerate(f, 1):
            if not raw.endswith(b"\n"):
                return
            try:
                cells = view.validate_json(raw)
                if cells.get("schema_version") == SCHEMA_VERSION:  # type: ignore[attr-defined]
                    yield cells
                    continue
            except ValidationError:
                pass
            rec = _slow(raw, model, path, lineno)
            if rec is not None:
                yield view.validate_python(rec.model_dump())


def _slow(raw: bytes, model: type[R], path: Path, lineno: int) -> R | None:
    """A line that is not a record of the current version: upgraded, None when blank, else RecordError."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(f"{path}:{lineno}: not UTF-8 text ({exc.reason} at byte {exc.start}); {FIX}") from None
    return parse_record(line, model, f"{path}:{lineno}") if line.strip() else None


def _current(raw: bytes, model: type[R]) -> R | None:
    """``raw`` as a record of the current schema_version, or None (then the line takes the slow path:
    an older version to upgrade, a blank line, or an error to name). Validating the bytes, with no
    decoding first, reads 200,000 answers about a quarter faster."""
    try:
        rec = model.model_validate_json(raw)
    except ValidationError:
        return None
    return rec if getattr(rec, "schema_version", None) == SCHEMA_VERSION else None


def parse_record(line: str, model: type[R], where: str) -> R:
    """One JSON Lines record, upgraded from an older schema_version; :class:`RecordError` naming ``where``."""
    try:
        rec = model.model_validate_json(line)
        if getattr(rec, "schema_version", None) == SCHEMA_VERSION:
            return rec  # the common case, at full speed
    except ValidationError:
        pass
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise RecordError(f"{where}: not a complete JSON record ({exc}); {FIX}") from None
    if not isinstance(data, dict):
        raise RecordError(f"{where}: a record must be a JSON object, not {type(data).__name__}; {FIX}")
    data = upgrade(model.__name__, data, where)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "record"
        raise RecordError(f"{where}: not a valid {model.__name__} record ({field}: {err['msg']}); {FIX}") from None


FIX = "remove or repair that line (a removed answer is asked again on the next run)"


class JsonlAppender:
    """Append records one per line, each flushed and synced before returning."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        repair(path)
        self._f: IO[str] = path.open("a", encoding="utf-8")

    def append(self, record: BaseModel) -> None:
        self._f.write(record.model_dump_json() + "\n")
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
