"""The run manifest as a typed record: what a run is (plan, question sets, seeds, versions, host,
candidates served, judges), read and written only through :mod:`harness.rundir`.

The fields are named as the keys of ``manifest.json``, so the file reads as before. A key this
harness does not know (written by a newer one) is kept on a round trip and never read
(``extra="allow"``). A key a run never wrote stays absent when the record is saved again
(:meth:`RunManifest.to_json` leaves out what was never set), so an older run's file only changes
where a stage changes it. Old layouts are brought up to this record in :mod:`harness.schema`.

This module is foundation: it imports only :mod:`harness.records`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness.records import SCHEMA_VERSION


class _Part(BaseModel):
    """A part of the manifest; keys of a newer harness are kept, never read."""

    model_config = ConfigDict(extra="allow")


class QuestionSetEntry(_Part):
    """A question set as the run asked it: the file's path, its SHA-256 (hex) and number of questions."""

    path: str
    sha256: str | None = None
    questions: int | None = None


class KnowledgeBaseEntry(_Part):
    """The plan's knowledge-base folder as the run read it: its absolute path, each document's SHA-256 (hex) by
    its path relative to the folder, in order, and the ids of the sets that retrieved from it."""

    folder: str
    files: dict[str, str] = Field(default_factory=dict)
    sets: list[str] = Field(default_factory=list)


class Seeds(_Part):
    """The sampling seeds: ``base`` (the plan's ``sampling.seed``) and one per sample (base + sample index)."""

    base: int | None = None
    per_sample: list[int] = Field(default_factory=list)


class GitInfo(_Part):
    """The harness checkout a session ran from: commit hash (None outside a checkout), uncommitted changes."""

    commit: str | None = None
    dirty: bool | None = None


class HostInfo(_Part):
    """The host a run was made on. ``memory_gib``: RAM in GiB; ``cpu_flags``: the flags that decide the CPU
    build's dtype (:data:`harness.hardware.RELEVANT_FLAGS`); ``gpus``: one ``{"name", "memory_gib", ...}``
    per GPU (:func:`harness.hardware.gpu_info`)."""

    hostname: str | None = None
    platform: str | None = None
    cpu: str | None = None
    cpu_model: str | None = None
    cpu_flags: list[str] = Field(default_factory=list)
    cpu_bf16_native: bool | None = None
    cpu_count: int | None = None
    memory_gib: float | None = None
    gpus: list[dict[str, Any]] = Field(default_factory=list)


class SessionEntry(_Part):
    """One ``harness run`` session: its start (unix time, s), package versions, checkout, and the plan
    changes it continued the run with (one line each, :mod:`harness.inputs.plan_changes`)."""

    started_at: float
    versions: dict[str, str | None] = Field(default_factory=dict)
    git: GitInfo = Field(default_factory=GitInfo)
    plan_changes: list[str] = Field(default_factory=list)


class CandidateEntry(_Part):
    """How a candidate was served (:func:`harness.server.reach.candidate_info`) and how its run ended.

    ``api``: ``chat`` or ``completions``, ``api_reason`` why; ``base_url``: the endpoint of a model not
    served by the harness (None when it was); ``server_start_s``: seconds from launch to a healthy server;
    ``server_command``: the vLLM command's arguments; ``dtype``: the dtype choice
    (:meth:`harness.dtype.DtypeChoice.to_json`); ``adapter``: ``{"served_on", "path"}`` of a LoRA adapter;
    ``placement``: where a fleet worker ran it; ``error`` / ``lm_eval_error``: why its run or lm-eval
    tasks failed (None: they did not).
    """

    model: str | None = None
    api: str | None = None
    api_reason: str | None = None
    chat_template: str | None = None
    base_url: str | None = None
    server_start_s: float | None = None
    cuda_visible_devices: str | None = None
    server_command: list[str] | None = None
    adapter: dict[str, Any] | None = None
    dtype: dict[str, Any] | None = None
    placement: dict[str, Any] | None = None
    error: str | None = None
    lm_eval_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The entry as the manifest writes it (keys it was never given left out)."""
        return self.model_dump(mode="json", exclude_unset=True)


class JudgeEntry(_Part):
    """A judge of the panel as it graded the run (:mod:`harness.scoring.judge.stage`).

    ``params``: the model's parameter count; ``fingerprint``: hash of the settings that decide its verdicts;
    ``may_grade``: the candidates it grades (None: all); ``asked``: questions put to it this session;
    ``judging_s``: seconds spent grading; ``server_start_s``: seconds to a healthy server; ``shared_server``:
    the candidate whose server it reused (None: its own); ``error``: why it failed (None: it did not).
    """

    name: str | None = None
    model: str | None = None
    family: str | None = None
    params: int | None = None
    warnings: list[str] = Field(default_factory=list)
    fingerprint: str | None = None
    prompt_versions: dict[str, Any] = Field(default_factory=dict)
    may_grade: list[str] | None = None
    same_family: str | None = None
    error: str | None = None
    api: str | None = None
    api_reason: str | None = None
    server_start_s: float | None = None
    shared_server: str | None = None
    dtype: dict[str, Any] | None = None
    asked: int | None = None
    judging_s: float | None = None
    placement: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The entry as the manifest writes it (keys it was never given left out)."""
        return self.model_dump(mode="json", exclude_unset=True)


class EmbeddingEntry(_Part):
    """The embedding model the run's ``dense`` and ``hybrid`` variants ranked passages with (docs/knowledge-base.md).

    ``model``: its name (``@revision``) as the plan gives it, which names its vectors in the cache; ``served``:
    ``started`` (vLLM's pooling runner), ``endpoint``, or ``cache`` (every vector was cached, the model was not
    asked); ``dimension``: the vectors' length; ``embedded``/``cached``: texts embedded this session and read from
    the cache; ``start_s``: seconds to a healthy server (started only); ``retrievers``: variant name -> retriever.
    """

    model: str | None = None
    served: str | None = None
    dimension: int | None = None
    embedded: int | None = None
    cached: int | None = None
    start_s: float | None = None
    retrievers: dict[str, str] = Field(default_factory=dict)


class RunManifest(_Part):
    """``manifest.json``: what is needed to reproduce and compare a run.

    ``created_at``: unix time (s) the run began; ``plan``: the plan of the last session as saved
    (``Plan.model_dump(mode="json")``); ``plan_fingerprint``: hash of what decides the answers;
    ``question_sets_removed``: sets a later plan dropped (kept aside, left out of scoring and the report);
    ``judges``: the panel's entries by name; ``legacy_judge``: the one judge whose verdicts carry no name
    (a run judged before panels, not yet renamed, see :func:`harness.schema.upgrade_manifest_layout`);
    ``fleet``: what ``--gpus``/Ray the run was spread over.
    """

    schema_version: int = SCHEMA_VERSION
    created_at: float | None = None
    plan_path: str | None = None
    plan_fingerprint: str | None = None
    plan: dict[str, Any] = Field(default_factory=dict)
    question_sets: dict[str, QuestionSetEntry] = Field(default_factory=dict)
    question_sets_removed: dict[str, QuestionSetEntry] = Field(default_factory=dict)
    knowledge_base: KnowledgeBaseEntry | None = None
    """The plan's ``knowledge_base`` as the last session read it; absent when the plan names none."""
    seeds: Seeds = Field(default_factory=Seeds)
    versions: dict[str, str | None] = Field(default_factory=dict)
    host: HostInfo = Field(default_factory=HostInfo)
    git: GitInfo = Field(default_factory=GitInfo)
    candidates: dict[str, CandidateEntry] = Field(default_factory=dict)
    sessions: list[SessionEntry] = Field(default_factory=list)
    judges: dict[str, JudgeEntry] = Field(default_factory=dict)
    legacy_judge: str | None = None
    fleet: dict[str, Any] | None = None
    embedding: EmbeddingEntry | None = None
    """The embedding model of the dense and hybrid variants, as the last session used it (absent: BM25 only)."""

    @property
    def plan_name(self) -> str:
        """The saved plan's ``name`` ("" when it has none)."""
        return str(self.plan.get("name", ""))

    @property
    def plan_candidate_names(self) -> list[str]:
        """The candidates of the saved plan, in its order (else those served, for a plan without any)."""
        names = [str(c["name"]) for c in self.plan.get("candidates", [])]
        return names or list(self.candidates)

    def plan_candidate(self, name: str) -> dict[str, Any]:
        """Candidate ``name`` as the saved plan gives it (``{}`` when the plan has none of that name)."""
        return next((c for c in self.plan.get("candidates", []) if c.get("name") == name), {})

    def served_model(self, name: str) -> str | None:
        """The model candidate ``name`` was served as (path or id), None when it was not served."""
        entry = self.candidates.get(name)
        return entry.model if entry else None

    @property
    def questions_per_set(self) -> int | None:
        """The saved plan's ``sampling.questions_per_set`` (None: every question)."""
        value = self.plan.get("sampling", {}).get("questions_per_set")
        return None if value is None else int(value)

    def to_json(self) -> dict[str, Any]:
        """The manifest as ``manifest.json`` holds it: keys the run never wrote are left out, and
        ``legacy_judge`` once the old judge's verdicts were renamed."""
        out = self.model_dump(mode="json", exclude_unset=True)
        if out.get("legacy_judge", "") is None:
            del out["legacy_judge"]
        return out
