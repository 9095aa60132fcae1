"""One knowledge-base folder a plan names for several sets (issue 32): listed, checked, indexed once, previewed,
measured, recorded in the manifest and exported for training."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import harness.inputs.variants as variants_mod
from harness.cli import main
from harness.inputs.plan import load_plan
from harness.inputs.plan_changes import plan_changes
from harness.inputs.questions import load_question_set
from harness.inputs.retrieval import chunk_document
from harness.inputs.variants import framings
from harness.records import KnowledgeBase, Plan, QuestionSet, Variant
from harness.rollup.retrieval import retrieval_figures
from harness.run.generate import plan_work
from harness.run.manifest import new_manifest
from harness.validation import InputError
from tests.support.files import DATA

SAMPLE_DOCS = Path(__file__).resolve().parents[2] / "question_sets" / "kb" / "docs"

# Two policies with one file name, in two subfolders: their passages must not share an id.
HR_POLICY = "# 人事制度\n\n## 年假\n\n员工入职满1年享有5天带薪年假。\n"
SAFETY_POLICY = "# 安全制度\n\n## 叉车\n\n车间内叉车限速每小时5公里。\n"

HR_SET = """\
id: hr
title: 人事
language: zh
questions:
  - id: leave
    category: 年假
    question: 入职满1年有几天带薪年假？
    reference: 5天。
    source: 5天带薪年假
    checks: [{type: number, value: 5, unit: 天}]
"""
SAFETY_SET = """\
id: safety
title: 安全
language: zh
questions:
  - id: forklift
    category: 叉车
    question: 车间内叉车限速是多少？
    reference: 每小时5公里。
    source: 限速每小时5公里
    checks: [{type: contains_all, values: [5公里]}]
  - id: mould
    category: 工艺
    question: ABS 料的模具温度应设定为多少？
    reference: 60 ℃ ± 5 ℃。
    source: 'ABS | 模具温度 | 60 ℃ ± 5 ℃'
    checks: [{type: number, value: 60, unit: ℃}]
"""
OWN_SET = """\
id: own
title: 自带资料
language: zh
documents: [own.md]
questions:
  - id: q
    category: c
    question: 食堂几点开门？
    reference: 7点。
    checks: [{type: contains_all, values: ['7']}]
"""


def _plan(tmp: Path, kb: str | None = "kb", sets: tuple[str, ...] = ("hr.yaml", "safety.yaml")) -> Path:
    lines = [
        "name: kbplan",
        "candidates: [{name: m, model: x, endpoint: {base_url: 'http://127.0.0.1:9/v1'}}]",
        f"question_sets: [{', '.join(sets)}]",
        "variants: [zero_shot, {name: ctx, kind: with_context, top_k: 1}]",
    ]
    if kb is not None:
        lines.append(f"knowledge_base: {kb}")
    path = tmp / "plan.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """kb/ with hr/policy.md, safety/policy.md, the sample KB's .docx/.pdf/.md under plant/, a hidden file and
    folder (skipped) and a .pptx (not read, warned); hr.yaml and safety.yaml beside it, with no documents."""
    kb = tmp_path / "kb"
    for sub, text in (("hr", HR_POLICY), ("safety", SAFETY_POLICY)):
        (kb / sub).mkdir(parents=True)
        (kb / sub / "policy.md").write_text(text, encoding="utf-8")
    shutil.copytree(SAMPLE_DOCS, kb / "plant")
    (kb / ".git").mkdir()
    (kb / ".git" / "notes.md").write_text("不应被读取。", encoding="utf-8")
    (kb / ".draft.md").write_text("不应被读取。", encoding="utf-8")
    shutil.copy(DATA / "malformed" / "documents" / "slides.pptx", kb / "hr" / "slides.pptx")
    (tmp_path / "hr.yaml").write_text(HR_SET, encoding="utf-8")
    (tmp_path / "safety.yaml").write_text(SAFETY_SET, encoding="utf-8")
    return tmp_path


def test_the_folder_lists_every_supported_file_sorted_hidden_ones_skipped_other_formats_warned(tree: Path) -> None:
    lp = load_plan(_plan(tree))
    kb = lp.knowledge_base
    assert kb is not None
    # sorted by relative path; .git/ and .draft.md are hidden, slides.pptx is no document
    assert kb.documents == (
        "hr/policy.md", "plant/wiki-设备点检.md", "plant/员工手册_2025节选.docx", "plant/注塑安全规程.pdf",
        "safety/policy.md",
    )  # fmt: skip
    assert kb.set_ids == {"hr", "safety"}
    warned = [str(w) for w in lp.warnings if "will not be read" in str(w)]
    assert len(warned) == 1 and warned[0].endswith(": hr/slides.pptx")


def test_each_set_is_answered_from_a_passage_of_its_own_file_and_same_stem_files_keep_distinct_ids(
    tree: Path,
) -> None:
    lp = load_plan(_plan(tree))
    framed = framings(lp.plan.variants, [(ls.path, ls.qs) for ls in lp.sets], lp.knowledge_base)
    leave = framed[("ctx", "hr", "leave")].passages
    forklift = framed[("ctx", "safety", "forklift")].passages
    mould = framed[("ctx", "safety", "mould")].passages
    # top_k 1: the one passage each question's words point to, from three different files of the folder
    assert [(p.id, p.doc, p.heading) for p in leave] == [("hr/policy.md#1", "hr/policy.md", "年假")]
    assert [(p.id, p.doc, p.heading) for p in forklift] == [("safety/policy.md#1", "safety/policy.md", "叉车")]
    assert mould[0].doc == "plant/注塑安全规程.pdf" and mould[0].page == 1 and "| ABS | 模具温度 |" in mould[0].text
    assert framed[("zero_shot", "hr", "leave")].passages == ()
    # the run asks with the same passages (plan_work is what `harness run` sends)
    sent = {(w.variant, w.q.id): [p.id for p in w.framing.passages] for w in plan_work(lp)}
    assert sent[("ctx", "leave")] == ["hr/policy.md#1"] and sent[("ctx", "forklift")] == ["safety/policy.md#1"]


def test_passage_ids_are_unique_across_the_folder_even_for_one_stem() -> None:
    a = chunk_document(HR_POLICY, "hr/policy.md", id_stem="hr/policy.md")
    b = chunk_document(SAFETY_POLICY, "safety/policy.md", id_stem="safety/policy.md")
    c = chunk_document(HR_POLICY, "hr/policy.txt", id_stem="hr/policy.txt")
    assert [p.id for p in a + b + c] == ["hr/policy.md#1", "safety/policy.md#1", "hr/policy.txt#1"]
    assert chunk_document(HR_POLICY, "policy.md")[0].id == "policy#1"  # a set's own documents: as before


def test_the_folder_is_read_once_and_indexed_once_per_chunk_size(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _plan(tree)
    text = plan.read_text(encoding="utf-8").replace(
        "variants: [zero_shot, {name: ctx, kind: with_context, top_k: 1}]",
        "variants: [{name: a, kind: with_context}, {name: b, kind: with_context, top_k: 1},"
        " {name: c, kind: with_context, chunk_chars: 200}]",
    )
    plan.write_text(text, encoding="utf-8")
    lp = load_plan(plan)
    reads, indexes = [], []
    real_load, real_index = variants_mod.load_folder, variants_mod.Bm25Index
    monkeypatch.setattr(variants_mod, "load_folder", lambda kb: reads.append(kb) or real_load(kb))
    monkeypatch.setattr(variants_mod, "Bm25Index", lambda ps: indexes.append(len(ps)) or real_index(ps))
    framings(lp.plan.variants, [(ls.path, ls.qs) for ls in lp.sets], lp.knowledge_base)
    # two sets × three variants: read once; a and b share chunk_chars 300 (one index), c has 200 (another)
    assert len(reads) == 1 and len(indexes) == 2


def _validate(plan: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["validate", str(plan)])
    return code, capsys.readouterr().out.splitlines()


def test_validate_says_which_sets_use_the_folder(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = _validate(_plan(tree), capsys)
    assert code == 0
    assert lines[-1].endswith("ok (plan with 1 candidate, 2 question sets; knowledge base kb with 5 documents, "
                              "for hr, safety)")  # fmt: skip


def test_validate_refuses_a_missing_folder(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = _validate(_plan(tree, kb="no_such_kb"), capsys)
    assert code == 2
    assert [x for x in lines if "no_such_kb" in x] == [
        f"{tree / 'plan.yaml'}:5: knowledge_base: knowledge-base folder no_such_kb not found (relative to this plan)"
    ]


def test_validate_refuses_a_folder_with_no_document(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tree / "empty"
    empty.mkdir()
    shutil.copy(DATA / "malformed" / "documents" / "slides.pptx", empty / "slides.pptx")
    code, lines = _validate(_plan(tree, kb="{folder: empty}"), capsys)
    assert code == 2
    assert any(x.endswith("knowledge_base.folder: knowledge-base folder empty holds no document (.docx, .pdf, "
                          ".html, .xlsx, .md or .txt); put the documents in it") for x in lines)  # fmt: skip


@pytest.mark.parametrize(
    ("fixture", "said"),
    [
        # a folder has no `documents` list to name the OCR'd file in: the file goes in the folder (issue 32)
        (
            "scanned.pdf",
            "kb/bad/scanned.pdf: scanned PDF: no text layer; OCR it first (e.g. `ocrmypdf in.pdf "
            "out.pdf`) and put the converted file in the folder in its place",
        ),
        # no text and no images: nothing to OCR, so not called a scan
        (
            "blank.pdf",
            "kb/bad/blank.pdf: the PDF has no text: its pages hold neither text nor images; check that "
            "it is the right file",
        ),
        ("encrypted.pdf", "kb/bad/encrypted.pdf: encrypted PDF: it needs a password"),
        ("truncated.docx", "kb/bad/truncated.docx: damaged .docx file"),
    ],
)
def test_validate_refuses_a_file_it_cannot_read_in_one_line_naming_it(
    tree: Path, capsys: pytest.CaptureFixture[str], fixture: str, said: str
) -> None:
    (tree / "kb" / "bad").mkdir()
    shutil.copy(DATA / "malformed" / "documents" / fixture, tree / "kb" / "bad" / fixture)
    code, lines = _validate(_plan(tree), capsys)
    assert code == 2
    assert len([x for x in lines if fixture in x]) == 1
    assert any(f"plan.yaml:5: knowledge_base: {said}" in x for x in lines)


def test_a_sets_own_documents_win_and_validate_says_so(tree: Path) -> None:
    (tree / "own.md").write_text("食堂7点开门。", encoding="utf-8")
    (tree / "own.yaml").write_text(OWN_SET, encoding="utf-8")
    lp = load_plan(_plan(tree, sets=("hr.yaml", "safety.yaml", "own.yaml")))
    assert lp.knowledge_base is not None and lp.knowledge_base.set_ids == {"hr", "safety"}
    assert any("set 'own' retrieves from its own documents, not from the knowledge base" in str(w)
               for w in lp.warnings)  # fmt: skip
    framed = framings(lp.plan.variants, [(ls.path, ls.qs) for ls in lp.sets], lp.knowledge_base)
    assert [p.doc for p in framed[("ctx", "own", "q")].passages] == ["own.md"]
    # naming it in sets contradicts its own documents: refused, with both ways out
    with pytest.raises(InputError) as exc:
        load_plan(_plan(tree, kb="{folder: kb, sets: [hr, own, payroll]}", sets=("hr.yaml", "own.yaml")))
    said = [str(p) for p in exc.value.problems]
    assert any("knowledge_base.sets[1]: set 'own' lists documents of its own" in x for x in said)
    assert any("knowledge_base.sets[2]: no question set 'payroll' in this plan; its sets: hr, own" in x for x in said)


def test_sets_names_the_sets_that_use_the_folder(tree: Path) -> None:
    lp = load_plan(_plan(tree, kb="{folder: kb, sets: [safety]}"))
    assert lp.knowledge_base is not None and lp.knowledge_base.set_ids == {"safety"}
    framed = framings(lp.plan.variants, [(ls.path, ls.qs) for ls in lp.sets], lp.knowledge_base)
    assert framed[("ctx", "hr", "leave")].passages == ()  # hr is not served: asked with no passages
    assert KnowledgeBase.model_validate("kb") == KnowledgeBase(folder="kb")


def test_a_source_the_folder_does_not_hold_is_refused_at_the_sets_line(tree: Path) -> None:
    (tree / "hr.yaml").write_text(HR_SET.replace("source: 5天带薪年假", "source: 婚假3天"), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_plan(_plan(tree))
    said = [str(p) for p in exc.value.problems]
    assert said == [f"{tree / 'hr.yaml'}:9: questions[0].source: '婚假3天' does not appear in the plan's "
                    "knowledge base kb"]  # fmt: skip


def test_a_bad_file_in_the_folder_does_not_hide_the_sets_sources_problems(tree: Path) -> None:
    # one pass: the bad file's line and the source the readable files lack, together; the source that the
    # readable files hold (safety's 限速每小时5公里) is not reported
    (tree / "kb" / "bad").mkdir()
    shutil.copy(DATA / "malformed" / "documents" / "truncated.docx", tree / "kb" / "bad" / "truncated.docx")
    (tree / "hr.yaml").write_text(HR_SET.replace("source: 5天带薪年假", "source: 婚假3天"), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_plan(_plan(tree))
    said = [str(p) for p in exc.value.problems]
    assert len(said) == 2
    assert "kb/bad/truncated.docx: damaged .docx file" in said[0]
    assert said[1] == (f"{tree / 'hr.yaml'}:9: questions[0].source: '婚假3天' does not appear in the plan's "
                       "knowledge base kb (in the files that could be read: 1 could not)")  # fmt: skip


def test_a_document_outside_the_sets_folder_names_the_knowledge_base_as_the_fix() -> None:
    with pytest.raises(InputError) as exc:
        load_question_set(DATA / "malformed" / "document_escapes.yaml")
    assert "move the file there, or name its folder as the plan's knowledge_base" in str(exc.value.problems[0])


def test_context_plan_previews_a_set_with_the_folders_passages(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = _plan(tree)
    assert main(["context", "--plan", str(plan), "--set", "safety", "--question", "forklift", "--variant", "ctx"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"set safety retrieves from the plan's knowledge base {tree / 'kb'} (5 documents)\n")
    assert "passages: 1; source '限速每小时5公里' is among them (safety/policy.md#1)" in out
    # the id names the file already: "safety/policy.md#1 · safety/policy.md" would say it twice
    assert "    [1] safety/policy.md#1 · 叉车\n" in out and "车间内叉车限速每小时5公里。" in out
    # a set file the plan lists gets the folder too; an unknown --set names the plan's sets
    assert main(["context", str(tree / "hr.yaml"), "--plan", str(plan), "--variant", "ctx"]) == 0
    assert "    [1] hr/policy.md#1 · 年假\n" in capsys.readouterr().out
    # --question without --set: the set that holds it
    assert main(["context", "--plan", str(plan), "--question", "leave", "--variant", "ctx"]) == 0
    assert capsys.readouterr().out.startswith("set hr retrieves from the plan's knowledge base")
    assert main(["context", "--plan", str(plan), "--set", "payroll"]) == 2
    assert capsys.readouterr().err.strip() == f"error: no question set 'payroll' in {plan}; its sets: hr, safety"


def test_retrieval_figures_count_each_set_that_uses_the_folder() -> None:
    hr = QuestionSet.model_validate({"id": "hr", "title": "t", "language": "zh", "questions": [
        {"id": "leave", "category": "c", "question": "q", "source": "5天带薪年假"}]})  # fmt: skip
    safety = QuestionSet.model_validate({"id": "safety", "title": "t", "language": "zh", "questions": [
        {"id": "forklift", "category": "c", "question": "q", "source": "限速"},
        {"id": "mould", "category": "c", "question": "q", "source": "模具温度"}]})  # fmt: skip
    # hr's one question hit at rank 1; safety's forklift hit at rank 2, its mould question missed
    answers = pd.DataFrame([
        {"variant": "ctx", "set_id": "hr", "question_id": "leave", "context_ids": ["hr/policy.md#1"],
         "context_hit": True, "context_rank": 1},
        {"variant": "ctx", "set_id": "safety", "question_id": "forklift",
         "context_ids": ["hr/policy.md#1", "safety/policy.md#1"], "context_hit": True, "context_rank": 2},
        {"variant": "ctx", "set_id": "safety", "question_id": "mould", "context_ids": ["hr/policy.md#1"],
         "context_hit": False, "context_rank": None},
    ])  # fmt: skip
    variants = [Variant(name="ctx", kind="with_context", top_k=2)]
    sets = {"hr": hr, "safety": safety}
    assert retrieval_figures(answers, sets, variants) == []  # no documents and no knowledge base: nothing retrieved
    figures = retrieval_figures(answers, sets, variants, KnowledgeBase(folder="kb"))
    by_set = {f.set_id: f for f in figures}
    assert (by_set["hr"].hits, by_set["hr"].questions, by_set["hr"].mrr) == (1, 1, 1.0)
    # safety: 1 hit of 2, MRR (1/2 + 0) / 2 = 0.25, the mould question missed with the passage given instead
    assert (by_set["safety"].hits, by_set["safety"].questions, by_set["safety"].mrr) == (1, 2, 0.25)
    assert [(m.question_id, m.retrieved) for m in by_set["safety"].missed] == [("mould", ("hr/policy.md#1",))]
    only_safety = retrieval_figures(answers, sets, variants, KnowledgeBase(folder="kb", sets=["safety"]))
    assert [f.set_id for f in only_safety] == ["safety"]


def test_the_manifest_records_the_folder_each_files_sha256_and_the_sets(tree: Path) -> None:
    lp = load_plan(_plan(tree))
    manifest = new_manifest(lp, git={"commit": None, "dirty": None}).to_json()
    entry = manifest["knowledge_base"]
    assert entry["folder"] == str(tree / "kb") and entry["sets"] == ["hr", "safety"]
    assert list(entry["files"]) == list(lp.knowledge_base.documents)  # type: ignore[union-attr]
    pdf = tree / "kb" / "plant" / "注塑安全规程.pdf"
    assert entry["files"]["plant/注塑安全规程.pdf"] == hashlib.sha256(pdf.read_bytes()).hexdigest()
    without = new_manifest(load_plan(_plan(tree, kb=None)), git={"commit": None, "dirty": None}).to_json()
    assert "knowledge_base" not in without


def test_export_sft_writes_the_folder_once_not_into_each_set(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tree / "sft"
    assert main(["export-sft", "--plan", str(_plan(tree)), "--out", str(out)]) == 0
    kb_lines = (out / "knowledge_base.jsonl").read_text(encoding="utf-8").splitlines()
    answers = [json.loads(x)["messages"][2]["content"] for x in kb_lines]
    # every passage of the folder once: the two policies' one passage each among them
    assert answers.count("员工入职满1年享有5天带薪年假。") == 1 and answers.count("车间内叉车限速每小时5公里。") == 1
    assert json.loads(kb_lines[0])["messages"][0]["content"] == "你是人事 / 安全方面的助手，依据公司文件回答。"
    # the sets have no documents, examples or included questions of their own: their files are empty
    assert (out / "hr.jsonl").read_text(encoding="utf-8") == "" == (out / "safety.jsonl").read_text(encoding="utf-8")
    assert f"{out / 'knowledge_base.jsonl'}: {len(kb_lines)} examples" in capsys.readouterr().out


def test_a_plan_moved_elsewhere_naming_the_same_folder_continues_the_run(tmp_path: Path) -> None:
    def plan(kb: object) -> Plan:
        return Plan.model_validate({"name": "p", "candidates": [{"name": "m", "model": "x"}],
                                    "question_sets": ["hr.yaml"], "knowledge_base": kb})  # fmt: skip

    saved = plan("kb").model_dump(mode="json")
    # the plan moved into configs/: ../kb is the folder the saved plan, in tmp_path, called kb
    assert plan_changes(saved, plan("../kb"), tmp_path, tmp_path / "configs").refused == []
    assert plan_changes(saved, plan("other"), tmp_path, tmp_path).refused == ["knowledge_base.folder: kb -> other"]
    assert plan_changes(saved, plan({"folder": "kb", "sets": ["hr"]}), tmp_path, tmp_path).refused == [
        'knowledge_base.sets: (none) -> ["hr"]'
    ]


def test_a_hybrid_variant_retrieves_from_the_folder_and_its_passages_are_the_ones_embedded(tree: Path) -> None:
    from harness.inputs.embeddings import passage_text
    from harness.inputs.variants import embedding_texts

    plan = _plan(tree)
    text = plan.read_text(encoding="utf-8").replace(
        "variants: [zero_shot, {name: ctx, kind: with_context, top_k: 1}]",
        "variants: [{name: ctx, kind: with_context, top_k: 1, retriever: hybrid}]\nembedding: {model: org/embedder}",
    )
    plan.write_text(text, encoding="utf-8")
    lp = load_plan(plan)
    sets = [(ls.path, ls.qs) for ls in lp.sets]
    asked: list[str] = []

    def embed(texts: list[str]) -> np.ndarray:  # a toy embedding: does the text speak of 叉车 or not
        asked.extend(texts)
        return np.array([[1.0, 0.0] if "叉车" in t else [0.0, 1.0] for t in texts])

    framed = framings(lp.plan.variants, sets, lp.knowledge_base, embed)
    # BM25 and the toy embedding both put the forklift rule first: fused, it is the one passage given
    assert [p.id for p in framed[("ctx", "safety", "forklift")].passages] == ["safety/policy.md#1"]
    # the texts a run embeds before the candidates: the folder's passages (each once, though two sets use it) and
    # every question of those sets; the framing asks for nothing beyond them, so a cache filled from them serves it
    wanted = embedding_texts(lp.plan.variants, sets, lp.knowledge_base)
    passages = [t for t in wanted if t not in {q.question for _, qs in sets for q in qs.questions}]
    assert len(passages) == len(set(passages)) and any("限速每小时5公里" in t for t in passages)
    assert set(asked) <= set(wanted)
    assert passage_text(framed[("ctx", "safety", "forklift")].passages[0]) in passages


def test_a_copy_of_a_document_is_read_once_and_validate_says_so(tree: Path) -> None:
    # the same handbook saved twice under two names: retrieval gave the same table in two of its three slots.
    # Read once, as the file first in sorted order ("HANDBOOK-COPY.docx" sorts before "员工手册…": code points)
    kb = tree / "kb"
    shutil.copy(kb / "plant" / "员工手册_2025节选.docx", kb / "plant" / "HANDBOOK-COPY.docx")
    lp = load_plan(_plan(tree))
    assert lp.knowledge_base is not None
    docs = lp.knowledge_base.documents
    assert "plant/HANDBOOK-COPY.docx" in docs and "plant/员工手册_2025节选.docx" not in docs
    copies = [str(w) for w in lp.warnings if "copy of another document" in str(w)]
    assert len(copies) == 1
    assert copies[0].endswith("1 file of kb is a copy of another document, read once: "
                              "plant/员工手册_2025节选.docx (= plant/HANDBOOK-COPY.docx)")  # fmt: skip


def test_files_of_one_size_are_copies_only_when_their_bytes_match(tmp_path: Path) -> None:
    # only files whose size another shares are hashed; two different notes of one length are both documents
    from harness.inputs.knowledge_base import list_folder

    (tmp_path / "a.md").write_text("# A\n\nMould 60 C\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("# B\n\nBarrel 230\n", encoding="utf-8")
    (tmp_path / "c.md").write_text("# A\n\nMould 60 C\n", encoding="utf-8")
    (tmp_path / "d.txt").write_text("a longer note of another size\n", encoding="utf-8")
    assert (tmp_path / "a.md").stat().st_size == (tmp_path / "b.md").stat().st_size
    listing = list_folder(tmp_path)
    assert listing.documents == ("a.md", "b.md", "d.txt")
    assert listing.copies == (("c.md", "a.md"),)
