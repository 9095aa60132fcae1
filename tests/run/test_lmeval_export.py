"""`harness export-lm-eval`: a question set as an lm-eval task that lm-eval itself loads offline, from any folder.

No server: lm-eval builds the tasks and their requests, which is where a wrong path,
label or target would show. The committed ``lm_eval_tasks/`` must equal a fresh export.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.inputs.questions import load_question_set
from harness.run.lmeval_export import LOADER, default_task_name, export_task
from tests.support.files import HARNESS, REPO

SET = """\
id: Mini-Set.zh
title: 小题集
language: zh
context: 以下问题依据公司制度回答。
questions:
  - id: mc-letter
    category: 年假
    question: "满10年不满20年的员工每年有几天年假？\\nA. 5天\\nB. 15天\\nC. 10天\\nD. 3天"
    reference: C. 10天
    checks:
      - type: choice
        answer: C
  - id: mc-circled
    category: 加班
    question: "法定节假日加班按几倍支付？\\n① 1.5倍\\n② 3倍\\n③ 2倍"
    reference: ② 3倍
    checks:
      - type: choice
        answer: ②
        options: 3
  - id: free-number
    category: 年假
    question: 年假最少按多长时间申请？
    reference: 半天
    checks:
      - type: contains_any
        values: [半天]
  - id: free-no-checks
    category: 差旅
    question: 出差伙食补助每天多少元？
    reference: 100元
  - id: skipped
    category: 其他
    question: 公司的婚假有几天？
    checks:
      - type: abstains
"""

COMMITTED = REPO / "lm_eval_tasks"
POLICY_SET = REPO / "question_sets" / "policy_mc_zh.yaml"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The in-test set exported under a folder of its own (the task's include_path)."""
    base = tmp_path_factory.mktemp("export")
    (base / "mini.yaml").write_text(SET, encoding="utf-8")
    qs, _ = load_question_set(base / "mini.yaml")
    export_task(qs, base / "tasks")
    return base / "tasks"


@pytest.fixture(scope="module")
def task_manager(exported: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One lm-eval TaskManager (indexing its built-in tasks takes seconds) over both task folders, offline."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_DATASETS_OFFLINE", "1")
        mp.setenv("HF_HUB_OFFLINE", "1")
        import datasets
        from lm_eval.tasks import TaskManager

        mp.setattr(datasets.config, "HF_HUB_OFFLINE", True)
        mp.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)
        mp.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path_factory.mktemp("hf_cache"))
        yield TaskManager(include_path=[str(exported), str(COMMITTED)])


def build(tm: Any, names: list[str]) -> dict[str, Any]:
    """Tasks by name, built (their data loaded) as lm-eval builds them for a run."""
    return dict(tm.load(names)["tasks"])


def test_default_task_name_is_lower_case_identifier() -> None:
    assert default_task_name("Mini-Set.zh") == "harness_mini_set_zh"
    assert default_task_name("policy_mc_zh") == "harness_policy_mc_zh"


def test_export_splits_choice_and_free_text_questions(exported: Path) -> None:
    folder = exported / "harness_mini_set_zh"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [LOADER, "harness_mini_set_zh_mc.yaml", "harness_mini_set_zh_gen.yaml",
         "harness_mini_set_zh_mc.jsonl", "harness_mini_set_zh_gen.jsonl"]
    )  # fmt: skip
    mc = [json.loads(line) for line in (folder / "harness_mini_set_zh_mc.jsonl").read_text("utf-8").splitlines()]
    assert [(r["id"], r["choices"], r["answer"]) for r in mc] == [
        ("mc-letter", ["A", "B", "C", "D"], 2),
        ("mc-circled", ["①", "②", "③"], 1),
    ]
    gen = [json.loads(line) for line in (folder / "harness_mini_set_zh_gen.jsonl").read_text("utf-8").splitlines()]
    assert [(r["id"], r["reference"]) for r in gen] == [("free-number", "半天"), ("free-no-checks", "100元")]
    for f in folder.iterdir():  # no machine-specific path: the folder can be committed and moved
        assert str(exported) not in f.read_text("utf-8")


def test_lm_eval_builds_both_tasks_from_another_folder(
    task_manager: Any, exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # data_files are relative: they must resolve against the task folder, not here
    tasks = build(task_manager, ["harness_mini_set_zh_mc", "harness_mini_set_zh_gen"])
    mc, gen = tasks["harness_mini_set_zh_mc"], tasks["harness_mini_set_zh_gen"]

    docs = list(mc.test_docs())
    assert len(docs) == 2 and mc.OUTPUT_TYPE == "multiple_choice"
    ctx = mc.fewshot_context(docs[0], num_fewshot=0)
    question = "满10年不满20年的员工每年有几天年假？\nA. 5天\nB. 15天\nC. 10天\nD. 3天"
    assert ctx == f"以下问题依据公司制度回答。\n\n{question}\n答案："
    assert mc.doc_to_choice(docs[0]) == ["A", "B", "C", "D"] and mc.doc_to_target(docs[0]) == 2
    assert mc.doc_to_choice(docs[1]) == ["①", "②", "③"] and mc.doc_to_target(docs[1]) == 1
    requests = mc.construct_requests(docs[0], ctx)
    assert [r.arguments[1] for r in requests] == [" A", " B", " C", " D"]  # MMLU/CMMLU: space before the letter

    docs = list(gen.test_docs())
    assert len(docs) == 2 and gen.OUTPUT_TYPE == "generate_until"
    assert [gen.doc_to_target(d) for d in docs] == ["半天", "100元"]
    assert gen.fewshot_context(docs[0], num_fewshot=0).endswith("年假最少按多长时间申请？\n答案：")
    request = gen.construct_requests(docs[0], "ctx")
    assert request.arguments[1]["until"] == ["\n\n"] and request.arguments[1]["max_gen_toks"] == 128
    assert gen.process_results(docs[0], [" 半天。"])["exact_match"] == 1.0  # white space, 。 ignored
    assert gen.process_results(docs[1], ["100元左右"])["exact_match"] == 0.0


def test_committed_task_loads_with_the_sets_answers(task_manager: Any) -> None:
    qs, _ = load_question_set(POLICY_SET)
    (task,) = build(task_manager, ["harness_policy_mc_zh"]).values()
    docs = list(task.test_docs())
    assert len(docs) == len(qs.questions)
    letters = [next(c.args["answer"] for c in q.checks if c.type == "choice") for q in qs.questions]
    assert [task.doc_to_choice(d)[task.doc_to_target(d)] for d in docs] == letters


def test_committed_tasks_equal_a_fresh_export(tmp_path: Path) -> None:
    qs, warnings = load_question_set(POLICY_SET)
    assert warnings == []
    result = export_task(qs, tmp_path)
    assert (result.tasks, result.mc, result.gen, result.skipped) == (["harness_policy_mc_zh"], len(qs.questions), 0, 0)
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    committed = {
        p.relative_to(COMMITTED): p.read_bytes()
        for p in COMMITTED.rglob("*")
        if p.is_file() and p.name != "README.md" and "__pycache__" not in p.parts
    }
    assert committed == fresh, (
        "lm_eval_tasks/ drifted: harness export-lm-eval question_sets/policy_mc_zh.yaml --out lm_eval_tasks"
    )


def test_reexport_removes_the_other_kinds_files(exported: Path, tmp_path: Path) -> None:
    (tmp_path / "mini.yaml").write_text(SET, encoding="utf-8")
    qs, _ = load_question_set(tmp_path / "mini.yaml")
    export_task(qs, tmp_path, "t")
    only_mc = qs.model_copy(update={"questions": qs.questions[:2]})
    result = export_task(only_mc, tmp_path, "t")
    assert result.tasks == ["t"] and (result.mc, result.gen, result.skipped) == (2, 0, 0)
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == sorted([LOADER, "t.yaml", "t_mc.jsonl"])


def test_cli_writes_and_says_how_to_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "mini.yaml").write_text(SET, encoding="utf-8")
    assert main(["export-lm-eval", str(tmp_path / "mini.yaml"), "--out", str(tmp_path / "out"), "--name", "mini"]) == 0
    out = capsys.readouterr().out
    assert "2 multiple-choice" in out and "2 free-text" in out and "1 skipped" in out
    assert f"lm_eval --include_path {tmp_path / 'out'} --tasks mini_mc,mini_gen" in out
    assert (tmp_path / "out" / "mini" / "mini_gen.yaml").exists()
    assert (
        main(["export-lm-eval", str(tmp_path / "mini.yaml"), "--out", str(tmp_path / "out"), "--name", "Bad-Name"]) == 2
    )
    assert "task name 'Bad-Name'" in capsys.readouterr().err


def test_cli_invalid_set_exits_2_with_one_line_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SET.replace("answer: C", "answer: Z"), encoding="utf-8")
    run = subprocess.run(
        [*HARNESS, "export-lm-eval", str(bad), "--out", str(tmp_path / "out")], capture_output=True, text=True, cwd=REPO
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "questions[0].checks[0].answer" in run.stderr
    assert not (tmp_path / "out").exists()
