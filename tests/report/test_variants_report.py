"""The report's "Variants" section on a synthetic run: figures match the roll-up, a planted overlap is named.

The synthetic run (harness_bench/synthetic_run.py) has three models; the plan in its manifest is turned into
a family: model 1 a quantized build of model 0, model 2 a LoRA adapter of model 0 whose training data
holds three of the evaluated questions.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.report import browser
from harness.report.load import ReportData, load_report_data
from harness.report.render import build_report
from harness.report.variants import variant_rows
from harness_bench.synthetic_run import write_synthetic_run


def _family_run(folder: Path) -> tuple[Path, list[str]]:
    """A synthetic run made into a family; returns the run and the three planted question ids (set/id)."""
    run = write_synthetic_run(folder / "run", 3, 24, 2, seed=3)
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    base, quant, lora = manifest["plan"]["candidates"]
    quant["base"] = base["name"]
    lora.update(base=base["name"], adapter="./adapter", train_data="train.jsonl")
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    gens = [json.loads(line) for line in (run / "generations.jsonl").read_text(encoding="utf-8").splitlines()]
    first = {}
    for g in gens:
        first.setdefault((g["set_id"], g["question_id"]), g)
    sets = {p.stem: p for p in (run / "sets").glob("*.yaml")}
    from harness.inputs.questions import load_question_set

    texts = {(qs.id, q.id): q.question for p in sets.values() for qs in [load_question_set(p)[0]] for q in qs.questions}
    planted = sorted(texts)[:3]
    lines = [json.dumps({"messages": [{"role": "user", "content": texts[k]}, {"role": "assistant", "content": "x"}]})
             for k in planted]  # fmt: skip
    (run / "train.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return run, [f"{s}/{q}" for s, q in planted]


@pytest.fixture(scope="module")
def family(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], ReportData]:
    run, planted = _family_run(tmp_path_factory.mktemp("variants"))
    return run, planted, load_report_data(run)


def _mean_diff(data: ReportData, a: str, b: str, drop: set[str] = frozenset()) -> tuple[float, int]:  # type: ignore[assignment]
    """Weighted mean of a - b over their shared questions, computed here from the question frame."""
    q, keys = data.questions, ["set_id", "question_id"]
    both = q[q.candidate == a].merge(q.loc[q.candidate == b, [*keys, "score"]], on=keys, suffixes=("", "_b"))
    both = both[[f"{s}/{i}" not in drop for s, i in zip(both.set_id, both.question_id, strict=True)]]
    return float(np.average(both.score - both.score_b, weights=both.weight)), len(both)


def test_variant_rows_match_the_question_frame(family: tuple[Path, list[str], ReportData]) -> None:
    _, planted, data = family
    base, quant, lora = data.names
    rows = {r["variant"]: r for r in variant_rows(data.variants, data.contamination)}
    assert set(rows) == {quant, lora}
    assert (rows[quant]["base"], rows[quant]["kind"], rows[lora]["kind"]) == (base, "quantized", "lora")
    diff, n = _mean_diff(data, quant, base)
    assert rows[quant]["n"] == n and rows[quant]["diff_points"] == pytest.approx(100 * diff)
    assert rows[quant]["contaminated"] == [] and not rows[quant]["checked"]
    # The adapter's training data holds exactly the three planted questions; without them, n - 3 remain.
    assert rows[lora]["contaminated"] == planted
    clean, clean_n = _mean_diff(data, lora, base, set(planted))
    assert rows[lora]["clean_n"] == clean_n == rows[lora]["n"] - 3
    assert rows[lora]["clean_points"] == pytest.approx(100 * clean)
    assert "without the 3 questions its training data held" in rows[lora]["summary"]
    # Flips: a question is acceptable when at least half its answers are (each answer: every essential
    # check passed); computed here from the answers themselves.
    # (a score record without a verdict, as this synthetic run writes: its score against the threshold)
    answers, t = data.answers, data.plan.rubric_pass_threshold
    ok = {c: set() for c in data.names}
    for (c, s, i), group in answers.groupby(["candidate", "set_id", "question_id"]):
        each = [v if v is not None else score >= t for v, score in zip(group.essentials, group.score, strict=True)]
        if sum(each) >= len(each) / 2:
            ok[c].add(f"{s}/{i}")
    assert set(rows[quant]["lost"]) == ok[base] - ok[quant]
    assert set(rows[quant]["gained"]) == ok[quant] - ok[base]


def test_report_html_names_the_planted_questions(family: tuple[Path, list[str], ReportData], tmp_path: Path) -> None:
    run, planted, data = family
    html = build_report(run, tmp_path / "out").read_text(encoding="utf-8")
    section = html.split('<section id="variants">')[1].split("</section>")[0]
    assert 'id="variants-table"' in section
    assert "its training data holds 3 evaluated questions" in section
    assert all(f"<code>{q}</code>" in section for q in planted)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert [v["variant"] for v in summary["variants"]] == data.names[1:]


@pytest.mark.browser
def test_variants_section_renders_in_chromium(family: tuple[Path, list[str], ReportData], tmp_path: Path) -> None:
    if browser.find_chromium() is None:
        pytest.fail("headless Chromium not found: run `make setup` (or HARNESS_SKIP_BROWSER=1 to skip)")
    run = family[0]
    index = build_report(run, tmp_path / "out")
    dom = browser.dump_dom(index)
    assert '<a href="#variants">Variants</a>' in dom
    assert dom.split('id="variants-table"')[1].split("</tbody>")[0].count("<tr data-variant=") == 2
    png = browser.screenshot(index, tmp_path / "variants.png", width_px=1400, height_px=2000)
    assert png.stat().st_size > 20_000
