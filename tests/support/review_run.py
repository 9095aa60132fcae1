"""A small, fixed run directory for the review tests: the keys and sha256 values in
tests/data/malformed/review_*.json and tests/data/labelstudio_export.json refer to it.

Answers (key: answer text; sha256 worked out by hand with
``python -c "import hashlib;print(hashlib.sha256('Paris'.encode()).hexdigest())"``):

    alpha/s1/q1/0           "Paris"           5dd272b4...a6b1
    alpha/s1/q2/0           "42"              73475cb4...8049   (graded by ann already: acceptable, grade 8)
    alpha/s1/q3/0           "Roughly forty."  79da7404...def8
    beta/s1/q1/0            "Lyon"            b9ae62ed...d9d0
    beta/s1/q2/0            cut off while thinking: text "partial", answer ""   e3b0c442...b855
    beta/s1/q3/0            failed (error), no text
    alpha/s1/q1/0/few_shot  "Paris" (not the decision variant)
"""

from __future__ import annotations

from pathlib import Path

from harness.manifest_records import RunManifest
from harness.records import SCHEMA_VERSION, Generation, HumanGrade, Plan
from harness.rundir import RunDir, save_manifest
from harness.store import sha256_file, write_records
from tests.support.files import write_yaml

SHA = {
    "Paris": "5dd272b4f316b776a7b8e3d0894b37e1e42be3d5d3b204b8a5836cc50597a6b1",
    "42": "73475cb40a568e8da8a045ced110137e159f890ac4da883b6b17dc651b3a8049",
    "Roughly forty.": "79da7404dcdc49fc3b54cd87516c5e9f6109b5816e56be47c0eaf007d343def8",
    "Lyon": "b9ae62ede2dad179198540d5a84bf5e432f8f36c370d906b9a8224d04582d9d0",
    "": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
}
ANN_GRADE = HumanGrade(key="alpha/s1/q2/0", text_sha256=SHA["42"], reviewer="ann", acceptable=True, grade=8,
                       graded_at="2026-12-01T09:00:00Z", source="ann-earlier.json")  # fmt: skip


def _gen(cand: str, q: str, text: str = "", variant: str = "zero_shot", **kw: object) -> Generation:
    key = f"{cand}/s1/{q}/0" + ("" if variant == "zero_shot" else f"/{variant}")
    return Generation(key=key, candidate=cand, set_id="s1", question_id=q, sample=0, variant=variant, api="chat",
                      seed=7, text=text, **kw)  # type: ignore[arg-type]  # fmt: skip


def make_review_run(root: Path) -> Path:
    """Write the run above (manifest, its question set, answers, ann's one grade) under ``root``; its folder."""
    questions = [
        {"id": "q1", "category": "geo", "question": "What is the capital of France?", "reference": "Paris"},
        {"id": "q2", "category": "math", "question": "What is six times seven?", "reference": "42"},
        {"id": "q3", "category": "math", "question": "About how many is 6 x 7?"},
    ]
    set_path = write_yaml(root / "s1.yaml", {"id": "s1", "title": "T", "language": "en", "questions": questions})
    plan = Plan.model_validate({
        "name": "rv", "question_sets": [str(set_path)],
        "candidates": [{"name": "alpha", "model": "org/alpha"}, {"name": "beta", "model": "org/beta"}],
        "variants": [{"name": "zero_shot", "kind": "zero_shot"}, {"name": "few_shot", "kind": "few_shot", "shots": 1}],
    })  # fmt: skip
    run = root / "run"
    save_manifest(run, RunManifest.model_validate({
        "schema_version": SCHEMA_VERSION, "plan_fingerprint": "fixed", "plan": plan.model_dump(mode="json"),
        "question_sets": {"s1": {"path": str(set_path), "sha256": sha256_file(set_path), "questions": 3}},
        "candidates": {}, "sessions": [],
    }))  # fmt: skip
    gens = [
        _gen("alpha", "q1", "Paris"),
        _gen("alpha", "q2", "42"),
        _gen("alpha", "q3", "Roughly forty.", context="Six times seven is 42."),
        _gen("beta", "q1", "Lyon"),
        _gen("beta", "q2", "partial", cut_off_thinking=True),
        _gen("beta", "q3", error="timed out"),
        _gen("alpha", "q1", "Paris", variant="few_shot"),
    ]
    rd = RunDir(run)
    write_records(rd.generations, list(gens))
    rd.write_reviews([ANN_GRADE])
    return run
