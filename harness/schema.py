"""Reading records of other harness versions: the one place ``schema_version`` is checked.

Every record and the manifest carry ``schema_version`` (:data:`harness.records.SCHEMA_VERSION`).
A record from a newer harness is refused with one line that says so (reading it
would silently drop fields this version does not know). An older record is brought
up to date here, one version step at a time, before it is validated: when a bump
changes a field's meaning or removes one, register the step with
:func:`upgrade_step`; a bump that only adds fields with defaults needs no step. A shape an older
harness wrote without a bump (a field's type made stricter, its JSON the same) is repaired after the
steps, by kind (:data:`REPAIRS`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.records import SCHEMA_VERSION

Upgrade = Callable[[str, dict[str, Any]], dict[str, Any]]
"""(record kind, record as a dict at version N) -> the record at version N + 1."""

UPGRADES: dict[int, Upgrade] = {}
"""From-version -> the step that brings a record from that version to the next."""

Repair = Callable[[dict[str, Any]], dict[str, Any]]
"""A record as a dict at the current version, in a shape older harnesses wrote -> the shape its model reads."""

REPAIRS: dict[str, Repair] = {}
"""Record kind -> a repair applied after the version steps, to a line that did not validate as written:
for shapes an older harness wrote without a version bump (a record's own type changed, not its JSON)."""


class RecordError(ValueError):
    """A record file or manifest this harness cannot read; the message names the file and line."""


def upgrade_step(from_version: int) -> Callable[[Upgrade], Upgrade]:
    def register(fn: Upgrade) -> Upgrade:
        UPGRADES[from_version] = fn
        return fn

    return register


def upgrade(kind: str, data: dict[str, Any], where: str, current: int = SCHEMA_VERSION) -> dict[str, Any]:
    """``data`` brought to ``current``; :class:`RecordError` (naming ``where``) for a newer or invalid version.

    ``kind`` is the record's type name (``Generation``, ``manifest``...), for steps that differ by kind.
    """
    version = data.get("schema_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RecordError(f"{where}: schema_version {version!r} is not a version number")
    if version > current:
        raise RecordError(
            f"{where}: written by a newer harness (schema_version {version}; this one reads up to {current}); "
            "upgrade the harness to read it"
        )
    while version < current:
        step = UPGRADES.get(version)
        data = step(kind, dict(data)) if step else dict(data)
        version += 1
        data["schema_version"] = version
    repair = REPAIRS.get(kind)
    return repair(data) if repair else data


@upgrade_step(1)
def _thinking_apart(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Schema 2 keeps a generation's thinking apart from its scored answer: a ``<think>`` block
    left inside an old answer's ``text`` is split out (:func:`harness.thinking.upgrade_generation`)."""
    if kind != "Generation":
        return data
    from harness.thinking import upgrade_generation

    out = upgrade_generation(data)
    assert isinstance(out, dict)
    return out


def upgrade_manifest_layout(data: dict[str, Any]) -> dict[str, Any]:
    """A manifest of an older layout brought to :class:`harness.manifest_records.RunManifest`'s, whatever
    its ``schema_version`` (layouts changed without a version bump).

    A run judged before panels has one ``judge`` entry and verdicts that carry no judge name: the entry
    moves under ``judges`` (by its ``name``, else ``"judge"``) and ``legacy_judge`` names it, until the
    judge stage renames the verdicts (:func:`harness.scoring.judge.stage.migrate_single_judge`).
    """
    out = dict(data)
    old = out.pop("judge", None)
    if isinstance(old, dict) and old:
        name = str(old.get("name", "judge"))
        out["legacy_judge"] = name
        if not isinstance(out.get("judges"), dict):
            out["judges"] = {name: old}
    return out


def _empty_perf_summaries(data: dict[str, Any]) -> dict[str, Any]:
    """A ``PerfRecord`` (``perf.jsonl``) typed its summaries only in issue 30; before, each was a dict,
    ``{}`` when not measured. An empty ``memory`` or ``metrics`` now reads as None (not measured); an empty
    ``server`` reads as it stands (a log that stated nothing). Every other field kept its name and shape."""
    return {k: None if k in ("memory", "metrics") and v == {} else v for k, v in data.items()}


REPAIRS["PerfRecord"] = _empty_perf_summaries
