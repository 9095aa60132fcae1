"""The malformed-input corpus (tests/data/malformed): every bad file gives one-line errors, exit 2, nothing written.

Each file has one kind of damage: YAML syntax, wrong types, unknown or duplicate keys, empty,
binary, non-UTF-8 and UTF-16 files, BOM with CRLF, bad rubric arguments, documents that are
missing or escape the set's folder or cannot be converted (tests/data/malformed/documents: a scanned,
an encrypted and a cut-off PDF, an encrypted and a cut-off .docx, a cut-off .xlsx, a slide deck, a GBK
.txt, a text file named .docx), broken plans, a YAML alias bomb and a 300-level nesting.
Plans that the run would refuse later (a misspelt GPU, a pass score off the judge's scale,
an lm-eval task the run's preflight refuses) are refused here too. The expected first problem
(line and wording) is listed here, so a message that loses its line number or its meaning fails.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from harness.cli import main
from tests.support.files import DATA, HARNESS, REPO

CORPUS = DATA / "malformed"
FIRST_PROBLEM = {
    "alias_bomb.yaml": (2, "YAML aliases expand to more than 1,000,000 values"),
    "bad_json_schema.yaml": (11, "invalid JSON Schema"),
    "bad_regex.yaml": (11, "pattern does not compile"),
    "binary.yaml": (2, "not UTF-8 text"),
    "bom_crlf_unknown_key.yaml": (4, "extra: unknown key"),
    "category_weight_unused.yaml": (4, "no question has category '安全'"),
    "category_weight_zero.yaml": (4, "weight must be greater than 0"),
    "check_list_not_mapping.yaml": (10, "a check must be a mapping with a 'type'"),
    "check_missing_value.yaml": (10, "give exactly one of value or between"),
    "check_misspelt_critical.yaml": (12, "checks[0].critcal: unknown key; did you mean `critical`?"),
    "choice_bad_letter.yaml": (11, "checks[0].answer"),
    "comment_only.yaml": (1, "must be a mapping"),
    "deep_nesting.yaml": (8, "questions[0].checks[0]…: nested more than 100 levels deep"),
    "document_encrypted_docx.yaml": (
        4,
        "documents/encrypted.docx: an encrypted or old-format (.doc) Word file; remove",
    ),
    "document_encrypted_pdf.yaml": (4, "documents/encrypted.pdf: encrypted PDF: it needs a password"),
    "document_escapes.yaml": (4, "is outside this set's folder"),
    "document_gbk_txt.yaml": (4, "documents/gbk.txt: not UTF-8 text (bad byte at offset 0); re-save it as UTF-8, or "),
    "document_missing.yaml": (4, "document no_such_policy.md not found"),
    "document_text_as_docx.yaml": (4, "documents/notes.docx: not a Word file: it holds plain text; rename it to .txt"),
    "document_scanned_pdf.yaml": (4, "documents/scanned.pdf: scanned PDF: no text layer; OCR it first"),
    "document_slides_pptx.yaml": (4, "documents/slides.pptx: .pptx files cannot be read; documents may be .docx, .pdf"),
    "document_truncated_docx.yaml": (4, "documents/truncated.docx: damaged .docx file (its zip container is cut off"),
    "document_truncated_pdf.yaml": (4, "documents/truncated.pdf: damaged PDF: it cannot be parsed"),
    "document_truncated_xlsx.yaml": (4, "documents/truncated.xlsx: damaged .xlsx file (its zip container is cut off"),
    "duplicate_key.yaml": (4, "duplicate key (first at line 3)"),
    "duplicate_question_id.yaml": (13, "duplicate question id 'q1'"),
    "empty.yaml": (1, "file is empty"),
    "empty_questions.yaml": (4, "at least 1 item"),
    "missing_id.yaml": (1, "id: required key is missing"),
    "missing_questions.yaml": (1, "questions: required key is missing"),
    "misspelt_check_arg.yaml": (12, "did you mean unit: '天'?"),
    "non_utf8_gbk.yaml": (7, "not UTF-8 text"),
    "plan_bad_variant.yaml": (6, "variants[1].kind"),
    "plan_decide_on_unknown.yaml": (1, "decide_on: 'with_context' is not one of the variants"),
    "plan_lm_eval_unknown_task.yaml": (7, "lm_eval.tasks: unknown lm-eval task 'harness_policy_mc_zhh'"),
    "plan_missing_tokenizer.yaml": (7, "candidates[0].endpoint.tokenizer: tokenizer folder "),
    "plan_min_answered_share_percent.yaml": (7, "min_answered_share: Input should be less than or equal to 1"),
    "plan_misspelt_gpu.yaml": (7, "perf.gpu: unknown GPU 'H1OO-80GB'; did you mean 'H100-80GB'"),
    "plan_misspelt_candidate_key.yaml": (5, "candidates[0].revsion: unknown key; did you mean `revision`?"),
    "plan_no_candidates.yaml": (2, "candidates: List should have at least 1 item"),
    "plan_pass_score_off_scale.yaml": (6, "judge: pass_score 12 is outside the grading scale 1..10: no grade can pass"),
    "plan_unknown_key.yaml": (6, "temprature: unknown key"),
    "questions_is_mapping.yaml": (4, "questions: Input should be a valid list"),
    "source_blank.yaml": (8, "questions[0].source: source is blank"),
    "syntax_bad_indent.yaml": (6, "YAML syntax error"),
    "syntax_tab_indent.yaml": (5, "YAML syntax error"),
    "syntax_unclosed_bracket.yaml": (4, "YAML syntax error"),
    "syntax_unclosed_quote.yaml": (13, "YAML syntax error"),
    "top_level_list.yaml": (1, "must be a mapping"),
    "top_level_scalar.yaml": (1, "must be a mapping"),
    "unknown_check_type.yaml": (10, "unknown check type 'numbr'"),
    "unknown_question_key.yaml": (7, "answer_key: unknown key"),
    "unquoted_number.yaml": (10, 'values[0]: 5 is a number where text is expected; put it in quotes: "5"'),
    "unknown_top_key.yaml": (4, "colour: unknown key"),
    "utf16.yaml": (1, "not UTF-8 text"),
    "weight_is_text.yaml": (7, "weight: Input should be a valid number"),
    "weight_negative.yaml": (7, "greater than 0"),
    "whitespace_only.yaml": (1, "file is empty"),
}


def test_the_corpus_has_at_least_30_files_and_each_is_listed() -> None:
    files = sorted(p.name for p in CORPUS.glob("*.yaml"))
    assert len(files) >= 30 and files == sorted(FIRST_PROBLEM)


@pytest.mark.parametrize("name", sorted(FIRST_PROBLEM))
def test_each_bad_file_gives_one_line_errors_and_exit_2(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = CORPUS / name
    assert main(["validate", str(path)]) == 2
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    assert lines and all(re.match(rf"^{re.escape(str(path))}:\d+: \S", line) for line in lines), out.out
    assert "Traceback" not in out.out + out.err
    line, words = FIRST_PROBLEM[name]
    assert lines[0].startswith(f"{path}:{line}: ") and words in lines[0], lines[0]


def test_a_huge_file_is_read_and_its_error_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    n = 20_000
    body = "".join(f"  - id: q{i}\n    category: c\n    question: 问题{i}？\n" for i in range(n))
    path = tmp_path / "huge.yaml"
    path.write_text(f"id: s\ntitle: T\nlanguage: zh\nquestions:\n{body}  - id: q7\n    category: c\n    question: x\n",
                    encoding="utf-8")  # fmt: skip
    assert path.stat().st_size > 700_000
    assert main(["validate", str(path)]) == 2
    (line,) = capsys.readouterr().out.strip().splitlines()
    assert line == f"{path}:{5 + 3 * n}: questions[{n}].id: duplicate question id 'q7' (first at questions[7])"


def test_a_bad_plan_writes_nothing(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_bytes((CORPUS / "plan_unknown_key.yaml").read_bytes())
    run_dir = tmp_path / "run"
    proc = subprocess.run([*HARNESS, "run", str(plan), "--run-dir", str(run_dir)], capture_output=True, text=True,
                          cwd=REPO, timeout=120)  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stdout + proc.stderr
    assert "temprature: unknown key" in proc.stdout + proc.stderr
    assert not run_dir.exists()


def test_a_number_where_text_is_expected_is_one_plain_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    # `values: [5, 天]`: 5 fails both members of `str | list[str]`; one line says what to do, not two type errors
    path = CORPUS / "unquoted_number.yaml"
    assert main(["validate", str(path)]) == 2
    (line,) = capsys.readouterr().out.strip().splitlines()
    assert (
        line
        == f'{path}:10: questions[0].checks[0].values[0]: 5 is a number where text is expected; put it in quotes: "5"'
    )
