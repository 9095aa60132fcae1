"""The report's capacity search and its cut and skipped sweep levels, from records (pure roll-up, then the page).

A synthetic run (harness_bench/synthetic_run.py) gets a capacity search of its first model, one rate level cut
short by the online over-saturation stop and one skipped after it; the page must show each figure and
reason a reader needs, escaped.
"""

from __future__ import annotations

import html
import json
import re

import pytest

from harness.perf_records import CapacityRecord
from harness.records import LevelGuards, LoadLevel, Perf, RequestTiming, Slo
from harness.report.render import build_report
from harness.rollup.perf_summary import best_levels, capacity_rows, level_notes, slo_text, sweep_frame
from harness.rundir import RunDir
from harness.store import JsonlAppender, parse_record
from harness_bench.synthetic_run import write_synthetic_run

REASON = "over-saturated after 12 s: <b>requests in flight grew</b>"


def fast(n: int) -> list[RequestTiming]:
    """``n`` requests of 10 output tokens, TTFT 100 ms, 1 s each."""
    return [RequestTiming(ttft_ms=100.0, e2e_ms=1000.0, output_tokens=10, prompt_tokens=5, started_mono=float(i))
            for i in range(n)]  # fmt: skip


def levels(name: str) -> list[LoadLevel]:
    """A valid r2, an r8 cut by the online stop (30 never sent, 5 cut), an r16 skipped after it."""
    base = {"candidate": name, "kind": "rate", "started_at": 0.0}
    return [
        LoadLevel(**base, level_id="r2", value=2, wall_s=4.0, requests=fast(8), guards=LevelGuards()),
        LoadLevel(**base, level_id="r8", value=8, wall_s=2.0, requests=fast(8), stopped=REASON, unsent=30, cut=5,
                  guards=LevelGuards(oversaturated=True, problems=[f"stopped early (30 never sent, 5 cut): {REASON}"])),
        LoadLevel(**base, level_id="r16", value=16, wall_s=0.0, requests=[], skipped="over-saturated at r8"),
    ]  # fmt: skip


def search(name: str) -> CapacityRecord:
    """Probed 1, 2, 4, 8, 6, 5 (two runs each): 8 and 6 fail both, 5 one of two, so c4 in [4, 6]."""
    runs = {1: [True, True], 2: [True, True], 4: [True, True], 8: [False, False], 6: [False, False], 5: [True, False]}
    order = [1, 2, 4, 8, 6, 5]
    points = [{"value": v, "met": runs[v], "goodput_req_per_s": [float(v), float(v) + 1], "out_tok_per_s": [1.0, 1.0],
               "order": order.index(v) + 1, "stopped": ["over-saturated after 11 s", None] if v == 8 else [None, None]}
              for v in sorted(runs)]  # fmt: skip
    return CapacityRecord(candidate=name, kind="concurrency", estimate=4, lower=4, upper=6, requests_per_s=4.0,
                          out_tok_per_s=300.0, points=points, slo=Slo(ttft_ms=320))  # fmt: skip


# ---------------------------------------------------------------- the roll-up (pure)


def test_a_skipped_level_has_no_figures_and_a_cut_level_is_no_measured_point() -> None:
    frame = sweep_frame(levels("a"), Slo(ttft_ms=300)).set_index("level")
    assert list(frame.index) == ["r2", "r8"]  # r16 was never sent
    assert frame.loc["r8", "measured"] == False and frame.loc["r8", "meets_slo"] == False  # noqa: E712
    assert frame.loc["r2", "measured"] == True and frame.loc["r2", "meets_slo"] == True  # noqa: E712
    # 8 answers in the 2 s before the stop look like 4 req/s: more than r2's 2, but it is not the best level
    assert frame.loc["r8", "requests_per_s"] == pytest.approx(4.0)
    assert list(best_levels(frame.reset_index()).level) == ["r2"]


def test_level_notes_name_what_was_cut_or_skipped_and_why() -> None:
    notes = level_notes(levels("a"))
    assert [(n["level"], n["status"], n["reason"]) for n in notes] == [
        ("r8", "cut", REASON),
        ("r16", "skipped", "over-saturated at r8"),
    ]
    assert (notes[0]["unsent"], notes[0]["cut"]) == (30, 5)


def test_capacity_rows_list_the_probes_in_order_and_the_target_cost() -> None:
    from harness.records import Candidate

    cand = Candidate(name="a", model="m", price_per_gpu_hour_usd=2.5)
    (row,) = capacity_rows([search("a")], [cand], Perf(gpu="L4", target_rps=10.0))
    assert [p["level"] for p in row["points"]] == ["c1", "c2", "c4", "c8", "c6", "c5"]
    assert row["points"][3]["runs"] == ["cut", "fail"] and row["points"][5]["runs"] == ["pass", "fail"]
    assert [p["passed"] for p in row["points"]] == [True, True, True, False, False, False]  # 1 of 2 is no majority
    assert row["points"][5]["goodput_req_per_s"] == pytest.approx(5.5)  # median of 5 and 6
    assert row["slo"] == "TTFT ≤ 320 ms; 95% of requests"
    # 10 req/s over 4 req/s per replica -> 3 replicas of 1 GPU at $2.50/h
    assert row["target_load"] == "for 10 requests/s within the SLOs: 3 × L4, $7.50/h"


def test_an_older_record_lists_its_points_by_value_against_the_plans_slo() -> None:
    from harness.records import Candidate

    written = search("a").model_dump(mode="json", exclude={"slo": True, "points": {"__all__": {"order", "stopped"}}})
    old = parse_record(json.dumps(written), CapacityRecord, "capacity.jsonl:1")  # a line written before both
    assert (old.points[0].order, old.points[0].stopped, old.points[0].met) == (None, [], [True, True])
    (row,) = capacity_rows([old], [Candidate(name="a", model="m")], Perf(slo=Slo(e2e_ms=2000, attainment=0.9)))
    assert [p["level"] for p in row["points"]] == ["c1", "c2", "c4", "c5", "c6", "c8"]
    assert row["points"][5]["runs"] == ["fail", "fail"] and row["target_load"] is None  # no target asked
    assert row["slo"] == slo_text(Slo(e2e_ms=2000, attainment=0.9)) == "E2E ≤ 2000 ms; 90% of requests"


# ---------------------------------------------------------------- the page


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The rendered page of a synthetic run with the records above for its first model; (page, that model)."""
    base = tmp_path_factory.mktemp("capacity-report")
    run = write_synthetic_run(base / "run", 2, 12, 1, seed=5)
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    first = manifest["plan"]["candidates"][0]
    first["price_per_gpu_hour_usd"] = 2.5
    first["vllm"]["tensor_parallel_size"] = 1
    manifest["plan"]["perf"]["target_rps"] = 10.0
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    rd = RunDir(run)
    with JsonlAppender(rd.loadtest) as out:
        for lv in levels(first["name"]):
            out.append(lv)
    with JsonlAppender(rd.capacity) as out:
        out.append(search(first["name"]))
    index = build_report(run, base / "out")
    return index.read_text(encoding="utf-8"), first["name"]


def _cells(fragment: str) -> list[str]:
    """The text of each table cell of ``fragment``, tags dropped, entities kept."""
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", fragment, re.S)]


def _table(page: str, opening: str) -> str:
    start = page.index(opening)
    return page[start : page.index("</table>", start)]


def test_the_page_shows_the_capacity_search(page: tuple[str, str]) -> None:
    text, name = page
    table = _table(text, '<table class="capacity-table"')
    assert f"{name}: largest concurrency meeting the SLOs (TTFT ≤ 320 ms; 95% of requests)" in table
    cells = _cells(table)
    assert cells[cells.index("capacity estimate") + 1] == "c4"
    assert cells[cells.index("interval [lower, upper]") + 1] == "[4, 6]"
    assert cells[cells.index("at the estimate (median of its runs)") + 1] == "4.00 goodput req/s, 300.0 output tok/s"
    assert cells[cells.index("cost of 10 requests/s") + 1] == "for 10 requests/s within the SLOs: 3 × L40S, $7.50/h"
    probes = _cells(_table(text, '<table class="capacity-points"'))[5:]  # after the header
    rows = [probes[i : i + 5] for i in range(0, len(probes), 5)]
    assert [r[1] for r in rows] == ["c1", "c2", "c4", "c8", "c6", "c5"]
    assert rows[3][2:4] == ["cut, fail", "failed"] and rows[5][2:] == ["pass, fail", "failed", "5.50"]


def test_the_page_lists_cut_and_skipped_levels_escaped(page: tuple[str, str]) -> None:
    text, name = page
    notes = _table(text, '<table id="level-notes"')
    assert "<b>requests" not in notes  # the reason is text, not markup
    cells = [html.unescape(c) for c in _cells(notes)]
    r8 = cells.index("r8")
    assert cells[r8 - 1 : r8 + 5] == [name, "r8", "cut short while running", REASON, "30", "5"]
    r16 = cells.index("r16")
    assert cells[r16 + 1 : r16 + 3] == ["skipped: not sent", "over-saturated at r8"]
    sweep = _table(text, '<table id="sweep-table"')
    assert "r8 (cut)" in _cells(sweep) and "r16" not in _cells(sweep)
