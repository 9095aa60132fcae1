"""Question-set and plan validation: one precise line per problem, exit 2, no traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.inputs.plan import load_plan
from harness.inputs.questions import load_question_set
from harness.validation import InputError
from tests.support.files import HARNESS, REPO

GOOD = """\
id: s
title: T
language: zh
questions:
  - id: q1
    category: c
    question: 几天？
    reference: 5天
    checks:
      - type: number
        value: 5
        unit: 天
"""


def problems(tmp_path: Path, text: str | bytes) -> list[str]:
    f = tmp_path / "set.yaml"
    f.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    with pytest.raises(InputError) as info:
        load_question_set(f, display="set.yaml")
    return [str(p) for p in info.value.problems]


def test_good_set_loads(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(GOOD, encoding="utf-8")
    qs, warnings = load_question_set(f)
    assert qs.questions[0].checks[0].args == {"value": 5, "unit": "天"}
    assert warnings == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD.replace("language: zh", "language: zh\ncolour: red"),
            ["set.yaml:4: colour: unknown key"],
        ),
        (
            GOOD.replace("    reference: 5天\n", "    reference: 5天\n    weight: heavy\n"),
            ["set.yaml:9: questions[0].weight: "],
        ),
        (
            GOOD.replace("question: 几天？", 'question: "   "'),
            ["set.yaml:7: questions[0].question: question text is empty"],
        ),
        (
            GOOD + "  - id: q1\n    category: c\n    question: again\n",
            ["set.yaml:13: questions[1].id: duplicate question id 'q1'"],
        ),
        (
            GOOD.replace("    category: c\n", "    category: c\n    category: d\n", 1),
            ["set.yaml:7: questions[0].category: duplicate key (first at line 6)"],
        ),
        (
            GOOD.replace("type: number", "type: numbr"),
            ["set.yaml:10: questions[0].checks[0].type: unknown check type 'numbr'"],
        ),
        (GOOD.replace("value: 5", "value: five"), ["set.yaml:11: questions[0].checks[0].value: "]),
        (
            GOOD.replace("unit: 天", "unit: 天\n        tolerence: 1"),
            ["set.yaml:13: questions[0].checks[0].tolerence: unknown key"],
        ),
        (
            GOOD.replace(
                "type: number\n        value: 5\n        unit: 天",
                "type: regex\n        pattern: '(unclosed'",
            ),
            ["set.yaml:11: questions[0].checks[0].pattern: ", "does not compile"],
        ),
        (GOOD.replace("questions:\n", "questions: []\nx:\n"), ["set.yaml:"]),
        ("id: s\ntitle: T\nlanguage: zh\n", ["set.yaml:1: questions: required key is missing"]),
        ("id: s\ntitle: [unclosed\n", ["set.yaml:3: (syntax): YAML syntax error"]),
        ("", ["set.yaml:1: (document): file is empty"]),
        (b"id: s\ntitle: \xff\xfe\n", ["set.yaml:2: (file): not UTF-8 text"]),
        ("- just\n- a list\n", ["set.yaml:1: (document): a question set must be a mapping"]),
    ],
)
def test_each_problem_is_one_precise_line(tmp_path: Path, text: str | bytes, expected: list[str]) -> None:
    lines = problems(tmp_path, text)
    joined = "\n".join(lines)
    for part in expected:
        assert part in joined, joined


def test_all_problems_of_a_kind_are_reported_together(tmp_path: Path) -> None:
    text = GOOD.replace("language: zh", "language: zh\ncolour: red\nsize: 3")
    lines = problems(tmp_path, text)
    assert len(lines) == 2 and all(line.startswith("set.yaml:") for line in lines)


def test_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_bytes(b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode("utf-8"))
    qs, _ = load_question_set(f)
    assert qs.id == "s"


def test_reference_failing_its_rubric_is_a_warning(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(GOOD.replace("reference: 5天", "reference: 6天"), encoding="utf-8")
    _, warnings = load_question_set(f, display="s.yaml")
    assert len(warnings) == 1
    assert str(warnings[0]).startswith("s.yaml:8: questions[0].reference: warning: reference answer fails")
    # A reader of a set already validated (a run's scoring and report) skips the warnings, not the errors.
    assert load_question_set(f, warnings=False)[1] == []
    f.write_text(GOOD.replace("reference: 5天", "reference: 6天").replace("language: zh", "language: zh\ncolour: red"))
    with pytest.raises(InputError):
        load_question_set(f, warnings=False)


def test_plan_problems(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(GOOD, encoding="utf-8")
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "name: p\n"
        "candidates:\n"
        "  - name: a\n    model: ./no-such-dir\n"
        "  - name: a\n    model: org/hub-model\n    vllm: {tensor_parallel_size: 0}\n"
        "question_sets: [s.yaml, missing.yaml]\n"
        "sampling: {samples: 2, temprature: 0.5}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        load_plan(plan, display="plan.yaml")
    text = "\n".join(map(str, info.value.problems))
    assert "plan.yaml:7: candidates[1].vllm.tensor_parallel_size: " in text
    assert "plan.yaml:9: sampling.temprature: unknown key" in text
    plan.write_text(plan.read_text().replace("{tensor_parallel_size: 0}", "{}").replace(", temprature: 0.5", ""))
    with pytest.raises(InputError) as info:
        load_plan(plan, display="plan.yaml")
    text = "\n".join(map(str, info.value.problems))
    assert "plan.yaml:4: candidates[0].model: model directory" in text
    assert "plan.yaml:5: candidates[1].name: duplicate candidate name 'a'" in text
    assert "plan.yaml:8: question_sets[1]: question set file missing.yaml not found" in text


def test_cli_validate_exit_codes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        GOOD.replace("value: 5", "value: five").replace("language: zh", "language: zh\nextra: 1"),
        encoding="utf-8",
    )
    run = subprocess.run([*HARNESS, "validate", str(bad)], capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 2
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith(f"{bad}:") for line in lines), run.stdout
    assert "Traceback" not in run.stdout + run.stderr

    ok = subprocess.run([*HARNESS, "validate", "question_sets"], capture_output=True, text=True, cwd=REPO)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.count(": ok (question set") == len(list((REPO / "question_sets").glob("*.yaml"))) == 6
    assert "warning" not in ok.stdout  # every shipped reference answer passes its own rubric


def test_shipped_sets_are_large_enough() -> None:
    for name in ("hr_policy_zh", "production_line_zh", "customer_support_en", "quality_inspection_zh"):
        qs, _ = load_question_set(REPO / "question_sets" / f"{name}.yaml")
        assert qs.id == name
        assert len(qs.questions) >= 15
        assert all(q.reference and q.checks for q in qs.questions)


RUBRIC_ERRORS = """\
id: s
title: T
language: zh
category_weights: {安全: 2, 不存在: 1}
questions:
  - id: q1
    category: 安全
    question: 几天？
    checks:
      - type: all_of
        checks:
          - type: number
            between: [5]
          - type: contans_any
            values: [x]
      - type: json
        schema: {type: objekt}
      - type: choice
        answer: Z
      - type: contains_any
        values: [a]
        critical: maybe
"""


def test_rubric_problems_are_located_inside_groups(tmp_path: Path) -> None:
    text = "\n".join(problems(tmp_path, RUBRIC_ERRORS))
    assert "set.yaml:13: questions[0].checks[0].checks[0].between[1]: too few items" in text
    assert "set.yaml:14: questions[0].checks[0].checks[1].type: unknown check type 'contans_any'" in text
    assert "set.yaml:17: questions[0].checks[1].schema: " in text and "invalid JSON Schema" in text
    assert "set.yaml:19: questions[0].checks[2].answer: " in text
    assert "set.yaml:22: questions[0].checks[3].critical: " in text


def test_category_weight_for_an_unused_category(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(GOOD.replace("questions:\n", "category_weights: {c: 2, typo: 1}\nquestions:\n"), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_question_set(f, display="s.yaml")
    assert [str(p) for p in info.value.problems] == ["s.yaml:4: category_weights.typo: no question has category 'typo'"]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_new_set_skeleton_validates(tmp_path: Path, language: str) -> None:
    made = subprocess.run([*HARNESS, "new-set", "my_set", "--dir", str(tmp_path), "--language", language],
                          capture_output=True, text=True, cwd=REPO)  # fmt: skip
    assert made.returncode == 0, made.stderr
    qs, warnings = load_question_set(tmp_path / "my_set.yaml")
    assert qs.id == "my_set" and qs.language == language and warnings == []
    again = subprocess.run(
        [*HARNESS, "new-set", "my_set", "--dir", str(tmp_path)], capture_output=True, text=True, cwd=REPO
    )
    assert again.returncode == 2 and "already exists" in again.stderr


def test_questions_per_set_and_decision_settings(tmp_path: Path) -> None:
    two = GOOD + GOOD[GOOD.index("  - id:") :].replace("id: q1", "id: q2")
    (tmp_path / "s.yaml").write_text(two, encoding="utf-8")
    plan = tmp_path / "plan.yaml"
    base = "name: p\ncandidates:\n  - name: a\n    model: org/hub-model\nquestion_sets: [s.yaml]\n"
    plan.write_text(base + "sampling: {questions_per_set: 1}\n", encoding="utf-8")
    lp = load_plan(plan)
    assert [q.id for q in lp.sets[0].qs.questions] == ["q1"]
    plan.write_text(
        base + "weights: {quality: 0, cost: 0, latency: 0, stability: 0}\n"
        "constraints: {min_stability: 1.5, max_gpu_memory_gib: 0}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        load_plan(plan, display="plan.yaml")
    text = "\n".join(map(str, info.value.problems))
    assert "plan.yaml:6: weights: at least one weight must be above 0" in text
    assert "constraints.min_stability" in text and "constraints.max_gpu_memory_gib" in text


def test_documents_must_exist_and_sources_appear_in_them(tmp_path: Path) -> None:
    (tmp_path / "policy.md").write_text("## 年假\n员工每年享有5天带薪年假。\n", encoding="utf-8")
    text = GOOD.replace("language: zh\n", "language: zh\ndocuments: [policy.md, missing.md]\n").replace(
        "    reference: 5天\n", "    reference: 5天\n    source: 每年享有5天\n"
    )
    assert problems(tmp_path, text) == [
        "set.yaml:4: documents[1]: document missing.md not found (paths are relative to this file)"
    ]
    text = text.replace(", missing.md", "").replace("source: 每年享有5天", "source: 每年享有6天")
    assert problems(tmp_path, text) == [
        "set.yaml:10: questions[0].source: '每年享有6天' does not appear in the set's documents"
    ]
    (tmp_path / "set.yaml").write_text(text.replace("每年享有6天", "每年 享有5天"), encoding="utf-8")
    load_question_set(tmp_path / "set.yaml")  # whitespace-insensitive: valid


def test_questions_per_set_spreads_over_categories() -> None:
    from harness.inputs.questions import spread_questions
    from harness.records import Question, QuestionSet

    cats = ["a", "a", "a", "b", "b", "c"]
    questions = [Question(id=f"q{i}", category=c, question="?") for i, c in enumerate(cats)]
    qs = QuestionSet(id="s", title="t", language="zh", questions=questions)
    assert [q.id for q in spread_questions(qs, 4).questions] == ["q0", "q1", "q3", "q5"]  # a, b, c, then a again
    assert [q.id for q in spread_questions(qs, 2).questions] == ["q0", "q3"]
    assert spread_questions(qs, None) is qs and spread_questions(qs, 10) is qs


def test_decide_on_must_name_a_variant() -> None:
    from harness.records import Plan

    base = {"name": "p", "candidates": [{"name": "a", "model": "m"}], "question_sets": ["s"],
            "variants": ["zero_shot", "with_context"]}  # fmt: skip
    plan = Plan.model_validate({**base, "decide_on": "with_context"})
    assert plan.decision_variant == "with_context"
    with pytest.raises(ValueError, match="decide_on: 'few_shot' is not one of the variants"):
        Plan.model_validate({**base, "decide_on": "few_shot"})


def test_documents_outside_the_set_folder_are_refused(tmp_path: Path) -> None:
    inside = tmp_path / "sets"
    inside.mkdir()
    (tmp_path / "secret.md").write_text("## 机密\n工资表。\n", encoding="utf-8")
    (inside / "link.md").symlink_to(tmp_path / "secret.md")
    for rel in ("../secret.md", "/etc/hostname", "link.md"):
        text = GOOD.replace("language: zh\n", f"language: zh\ndocuments: ['{rel}']\n")
        (inside / "set.yaml").write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as info:
            load_question_set(inside / "set.yaml", display="set.yaml")
        assert [str(p) for p in info.value.problems] == [
            f"set.yaml:4: documents[0]: document {rel} is outside this set's folder; "
            "a question set may only read files in or under its own folder: move the file there, or name its "
            "folder as the plan's knowledge_base"
        ]
