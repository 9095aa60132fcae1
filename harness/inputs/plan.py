"""Load and validate an eval plan (YAML) and the question sets it names.

Relative paths in a plan (question sets, local model directories, chat
templates) are resolved against the plan file's folder, so a plan runs the same
from any working directory.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from harness.inputs.families import check_families
from harness.inputs.knowledge_base import PlanKnowledgeBase, folder_problems, list_folder
from harness.inputs.modelref import resolve_model
from harness.inputs.questions import load_question_set, spread_questions
from harness.inputs.retrieval import squash
from harness.inputs.shots import fallback_warning
from harness.records import Candidate, Judge, KnowledgeBase, Plan, QuestionSet
from harness.validation import InputError, LoadedYaml, Problem, load_yaml, problems_from_pydantic


@dataclass(frozen=True)
class LoadedSet:
    path: Path
    qs: QuestionSet


@dataclass(frozen=True)
class LoadedPlan:
    path: Path
    plan: Plan
    sets: list[LoadedSet]
    warnings: list[Problem]
    knowledge_base: PlanKnowledgeBase | None = None
    """The plan's ``knowledge_base`` folder as listed, with the sets that use it; None when it names none."""

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def model_ref(self, cand: Candidate) -> str:
        """What vLLM gets as ``--model``: an absolute local path or a hub id."""
        return str(resolve_model(self.base_dir, cand.model) or cand.model)

    def chat_template_path(self, cand: Candidate) -> Path | None:
        return (self.base_dir / cand.chat_template).resolve() if cand.chat_template else None


def load_plan(path: Path, display: str | None = None) -> LoadedPlan:
    """Validate the plan and every question set it names; raise :class:`InputError`.

    Every problem of the file is collected before raising (one line each: ``file:line: field: what``);
    warnings (an unset API-key variable, a rubric an empty answer passes) come back on the result.
    """
    doc = load_yaml(path, display)
    if not isinstance(doc.data, dict):
        raise InputError([doc.problem((), "an eval plan must be a mapping with name, candidates, question_sets")])
    try:
        plan = Plan.model_validate(doc.data)
    except ValidationError as exc:
        raise InputError([*doc.problems, *problems_from_pydantic(exc, doc, model=Plan)]) from None
    base = path.parent
    problems: list[Problem] = list(doc.problems)
    warnings: list[Problem] = []
    _check_candidates(plan, doc, base, problems, warnings)
    _check_judges(plan, doc, base, problems, warnings)
    _check_reasoning_plugins(plan, doc, base, problems)
    _check_gpus(plan, doc, problems)
    _check_retrievers(plan, doc, problems)
    check_families(plan, doc, base, problems)  # variant families (issue 21)
    sets = _load_sets(plan, doc, base, problems, warnings)
    kb = (
        _check_knowledge_base(plan.knowledge_base, plan, doc, base, sets, problems, warnings)
        if plan.knowledge_base
        else None
    )
    if not problems:
        _check_call_settings(plan, doc, [ls.qs for ls in sets], problems)
    if problems:
        raise InputError(problems)
    return LoadedPlan(path.resolve(), plan, sets, warnings, kb)


def _check_candidates(
    plan: Plan, doc: LoadedYaml, base: Path, problems: list[Problem], warnings: list[Problem]
) -> None:
    """Unique names; local model, tokenizer and chat-template files exist; API-key variables are set."""
    names: dict[str, int] = {}
    for i, cand in enumerate(plan.candidates):
        at = ("candidates", i)
        if cand.name in names:
            problems.append(doc.problem((*at, "name"), f"duplicate candidate name {cand.name!r}"))
        names.setdefault(cand.name, i)
        if cand.endpoint is None:
            local = resolve_model(base, cand.model)
            if local is not None and not local.is_dir():
                hint = " (run `make models` for the demo models)" if "models" in cand.model else ""
                problems.append(doc.problem((*at, "model"), f"model directory {local} does not exist{hint}"))
        else:
            ep = cand.endpoint
            if ep.tokenizer and (folder := resolve_model(base, ep.tokenizer)) and not folder.is_dir():
                problems.append(
                    doc.problem((*at, "endpoint", "tokenizer"), f"tokenizer folder {folder} does not exist")
                )
            if plan.constraints.max_gpu_memory_gib is not None and ep.gpu_memory_gib is None:
                why = (
                    "constraints.max_gpu_memory_gib cannot be judged for this endpoint (the harness does not "
                    "measure its server): declare endpoint.gpu_memory_gib, or the candidate is not eligible"
                )
                warnings.append(doc.problem((*at, "endpoint"), why, severity="warning"))
            if ep.api_key_env and ep.api_key_env not in os.environ:
                warnings.append(
                    doc.problem(
                        (*at, "endpoint", "api_key_env"),
                        f"environment variable {ep.api_key_env} is not set",
                        severity="warning",
                    )
                )
        if cand.chat_template and not (base / cand.chat_template).is_file():
            problems.append(doc.problem((*at, "chat_template"), f"chat template file {cand.chat_template} not found"))


def _check_judges(plan: Plan, doc: LoadedYaml, base: Path, problems: list[Problem], warnings: list[Problem]) -> None:
    """A judge's local model folder exists and its API-key variable is set, as for candidates."""
    for at, judge in judge_paths(plan):
        if judge.endpoint is None:
            local = resolve_model(base, judge.model)
            if local is not None and not local.is_dir():
                hint = " (run `make models` for the demo models)" if "models" in judge.model else ""
                problems.append(doc.problem((*at, "model"), f"model directory {local} does not exist{hint}"))
        elif judge.endpoint.api_key_env and judge.endpoint.api_key_env not in os.environ:
            warnings.append(doc.problem((*at, "endpoint", "api_key_env"),
                                        f"environment variable {judge.endpoint.api_key_env} is not set",
                                        severity="warning"))  # fmt: skip


def judge_paths(plan: Plan) -> list[tuple[tuple[str | int, ...], Judge]]:
    """Each judge of the plan with its YAML path: ``("judge",)`` or ``("judges", i)``."""
    if plan.judge is not None:
        return [(("judge",), plan.judge)]
    return [(("judges", i), j) for i, j in enumerate(plan.judges)]


def _check_reasoning_plugins(plan: Plan, doc: LoadedYaml, base: Path, problems: list[Problem]) -> None:
    """A reasoning-parser plugin file must exist; it is made absolute, as the server runs elsewhere."""
    served: list[tuple[tuple[str | int, ...], Candidate]] = [
        (("candidates", i), c) for i, c in enumerate(plan.candidates)
    ]
    for where, model in [*served, *judge_paths(plan)]:
        plugin = model.reasoning.plugin
        if plugin and not (base / plugin).is_file():
            problems.append(doc.problem((*where, "reasoning", "plugin"), f"reasoning parser plugin {plugin} not found"))
        elif plugin:
            model.reasoning.plugin = str((base / plugin).resolve())


def _check_gpus(plan: Plan, doc: LoadedYaml, problems: list[Problem]) -> None:
    if (why := unknown_gpu(plan.perf.gpu)) is not None:
        problems.append(doc.problem(("perf", "gpu"), why))
    for gpu_name in plan.perf.gpu_prices_usd_per_hour:
        if (why := unknown_gpu(gpu_name)) is not None:
            problems.append(doc.problem(("perf", "gpu_prices_usd_per_hour", gpu_name), why))


def _check_retrievers(plan: Plan, doc: LoadedYaml, problems: list[Problem]) -> None:
    """A dense or hybrid variant needs the plan's ``embedding`` model (docs/knowledge-base.md)."""
    for i, v in enumerate(plan.variants):
        if v.retriever != "bm25" and plan.embedding is None:
            problems.append(doc.problem(("variants", i, "retriever"), (
                f"retriever {v.retriever} needs an embedding model; add a plan-level `embedding: {{model: "
                "PATH_OR_HUB_ID}` (or `embedding: {model: NAME, endpoint: {base_url: URL}}`), or use bm25"
            )))  # fmt: skip


def _load_sets(
    plan: Plan, doc: LoadedYaml, base: Path, problems: list[Problem], warnings: list[Problem]
) -> list[LoadedSet]:
    """Every question set the plan names, validated, with ids unique across the plan."""
    sets: list[LoadedSet] = []
    set_ids: dict[str, str] = {}
    for i, rel in enumerate(plan.question_sets):
        set_path = (base / rel).resolve()
        try:
            qs, set_warnings = load_question_set(set_path, display=_display(set_path))
        except InputError as exc:
            if not set_path.exists():
                problems.append(doc.problem(("question_sets", i), f"question set file {rel} not found"))
            else:
                problems.extend(exc.problems)
            continue
        warnings.extend(set_warnings)
        warnings.extend(_few_shot_warnings(plan, qs, set_path))
        if qs.id in set_ids:
            problems.append(
                doc.problem(("question_sets", i), f"question set id {qs.id!r} is also used by {set_ids[qs.id]}")
            )
            continue
        set_ids[qs.id] = rel
        sets.append(LoadedSet(set_path, spread_questions(qs, plan.sampling.questions_per_set)))
    return sets


def _check_knowledge_base(
    kb: KnowledgeBase,
    plan: Plan,
    doc: LoadedYaml,
    base: Path,
    sets: list[LoadedSet],
    problems: list[Problem],
    warnings: list[Problem],
) -> PlanKnowledgeBase | None:
    """The ``knowledge_base`` folder exists, holds documents, and each of them converts (one line per file);
    files of other formats are a warning. ``sets`` names sets of the plan without documents of their own (a
    set's own ``documents`` win; without ``sets``, each set that has them is told so in a warning). Each
    ``source`` of a set that uses the folder occurs in it. None when the folder cannot be used."""
    folder_key = ("knowledge_base", "folder")
    at: tuple[str | int, ...] = folder_key if folder_key in doc.lines else ("knowledge_base",)
    try:
        listing = list_folder(base / kb.folder)
    except FileNotFoundError:
        problems.append(doc.problem(at, f"knowledge-base folder {kb.folder} not found (relative to this plan)"))
        return None
    except NotADirectoryError:
        problems.append(doc.problem(at, f"knowledge_base {kb.folder} is a file; name the folder that holds the "
                                    "documents (a single file goes in a set's documents)"))  # fmt: skip
        return None
    shown = kb.folder.rstrip("/")
    errors, folder_warnings, texts = folder_problems(listing, shown)
    problems.extend(doc.problem(at, e) for e in errors)
    warnings.extend(doc.problem(at, w, severity="warning") for w in folder_warnings)
    by_id = {ls.qs.id: ls for ls in sets}
    for i, set_id in enumerate(kb.sets or []):
        where = ("knowledge_base", "sets", i)
        if set_id not in by_id:
            problems.append(doc.problem(where, f"no question set {set_id!r} in this plan; its sets: "
                                        f"{', '.join(by_id) or 'none'}"))  # fmt: skip
        elif by_id[set_id].qs.documents:
            problems.append(doc.problem(where, f"set {set_id!r} lists documents of its own, and a set's own documents "
                                        "win: remove its documents to use the knowledge base, or leave it out of "
                                        "sets"))  # fmt: skip
    if kb.sets is None:
        for ls in sets:
            if ls.qs.documents:
                warnings.append(
                    doc.problem(
                        at,
                        f"set {ls.qs.id!r} retrieves from its own documents, not from "
                        f"the knowledge base (a set's own documents win)",
                        severity="warning",
                    )
                )
    users = [ls for ls in sets if kb.uses(ls.qs)]
    if not users and not problems:
        warnings.append(doc.problem(at, "no question set retrieves from the knowledge base", severity="warning"))
    elif users and not any(v.kind == "with_context" for v in plan.variants):
        warnings.append(doc.problem(at, "no with_context variant: the knowledge base is not used; add one to "
                                    "variants", severity="warning"))  # fmt: skip
    # the files that could be read still let the sources be checked: all problems in one pass
    whole = squash("\n".join(texts.values()))
    unread = len(listing.documents) - len(texts)
    besides = f" (in the files that could be read: {unread} could not)" if unread else ""
    for ls in users if texts else []:
        set_doc = None
        for i, q in enumerate(ls.qs.questions):
            if q.source is not None and squash(q.source) not in whole:
                set_doc = set_doc or load_yaml(ls.path, _display(ls.path))
                problems.append(set_doc.problem(("questions", i, "source"), f"{q.source!r} does not appear in the "
                                                f"plan's knowledge base {shown}{besides}"))  # fmt: skip
    if errors:
        return None
    return PlanKnowledgeBase(listing.folder, listing.documents, frozenset(ls.qs.id for ls in users))


def _few_shot_warnings(plan: Plan, qs: QuestionSet, set_path: Path) -> list[Problem]:
    """A ``few_shot`` variant on a set without ``few_shot:`` examples falls back to other questions' references
    (:func:`harness.inputs.shots.fallback_warning`): one warning per such variant, at the set's ``questions:``
    line (where ``few_shot:`` would go before it)."""
    variants = [v for v in plan.variants if v.kind == "few_shot"]
    if qs.few_shot or not variants:
        return []
    display = _display(set_path)
    line = load_yaml(set_path, display).line_of(("questions",))
    found = (fallback_warning(qs, display, line, v.name, v.shots) for v in variants)
    return [w for w in found if w is not None]


def _check_call_settings(plan: Plan, doc: LoadedYaml, sets: list[QuestionSet], problems: list[Problem]) -> None:
    """A tool-call weight or limit needs questions that measure it: ``weights.calls`` and
    ``constraints.min_call_accuracy`` a question with ``expect_call`` (call accuracy's denominator),
    ``constraints.max_unparsable_call_share`` one that grades calls at all (``expect_call`` or ``no_call``).
    Without them every candidate would lack the figure: the plan is wrong, not the candidates."""
    questions = [q for qs in sets for q in qs.questions]
    expect = any(q.expect_call for q in questions)
    graded = any(q.grades_calls for q in questions)
    fix = "add such questions to a set (docs/tools.md) or remove the setting"
    if plan.weights.calls > 0 and not expect:
        problems.append(doc.problem(("weights", "calls"), "no question of the plan's sets has expect_call, so "
                                    f"call accuracy cannot be measured to weigh: {fix}"))  # fmt: skip
    if plan.constraints.min_call_accuracy is not None and not expect:
        problems.append(doc.problem(("constraints", "min_call_accuracy"), "no question of the plan's sets has "
                                    f"expect_call, so call accuracy cannot be measured: {fix}"))  # fmt: skip
    for name in ("max_unparsable_call_share", "max_text_call_share"):
        if getattr(plan.constraints, name) is not None and not graded:
            problems.append(doc.problem(("constraints", name), "no question of the plan's sets grades tool calls "
                                        f"(expect_call or no_call): {fix}"))  # fmt: skip


def unknown_gpu(name: str | None) -> str | None:
    """Why ``name`` is no GPU of harness/inputs/gpus.py (with the nearest names), or None when it is one."""
    if name is None:
        return None
    from harness.inputs.gpus import GPUS, gpu

    try:
        gpu(name)
    except ValueError:
        near = difflib.get_close_matches(name.upper(), [g.upper() for g in GPUS], n=2, cutoff=0.5)
        hint = f"did you mean {' or '.join(repr(n) for n in near)}? " if near else ""
        return f"unknown GPU {name!r}; {hint}known GPUs: {', '.join(GPUS)}"
    return None


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
