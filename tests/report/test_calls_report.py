"""The report of a run whose tool calls were graded, in a real headless Chromium (Playwright over the system
Chromium): the "Tool calls" section's figures as a reader sees them, and the drill-down's calls (expected beside
made, a hostile function name as text, the differing argument marked with expected and got).

The run (tests/support/call_run.py) is the hand-built one of tests/rollup/test_call_figures.py, so the figures
below are reasoned there and here by hand; candidate c adds a candidate with nothing to measure on no_call
questions, whose calls were both written in the text; d a call written in the text that does not parse; e one
answer without a call. Candidate a also has a load sweep whose levels graded calls, and a capacity search.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.perf_records import CapacityRecord
from harness.records import LevelCalls, LoadLevel, ToolCallMade
from harness.report.drilldown import page_drilldown
from harness.report.render import build_report
from harness.rundir import RunDir
from harness.store import JsonlAppender
from harness_bench.synthetic_run import write_synthetic_run
from tests.report.test_capacity_report import fast
from tests.report.test_review_page import _need_browser
from tests.support.call_run import HOSTILE_NAME, SICK, answers_a, gen, write_call_run

BROKEN = "a <tool_call> block that is not JSON"


def in_text(args: str, problem: str | None = None) -> list[ToolCallMade]:
    """A get_leave_balance call the client read out of the answer's text."""
    return [ToolCallMade(name="get_leave_balance", arguments=args, from_text=True, problem=problem)]


def sweep_levels() -> list[LoadLevel]:
    """a's sweep: c1 graded 4 responses (3 to expect_call questions: 2 right, 1 wrong call; 1 right not to call);
    c2 sent no request to a question with tools; c4 graded 4 (3 expect_call: 1 right, 1 missed, 1 unparsable)."""
    base = {"candidate": "a", "kind": "concurrency", "started_at": 0.0, "wall_s": 4.0}
    c1 = LevelCalls(responses=4, expect_call_responses=3, right=2, wrong_call=1, no_call_right=1,
                    call_accuracy=2 / 3, unparsable_share=0.0)  # fmt: skip
    c4 = LevelCalls(responses=4, expect_call_responses=3, right=1, missed_call=1, unparsable=1, no_call_right=1,
                    call_accuracy=1 / 3, unparsable_share=0.25)  # fmt: skip
    return [
        LoadLevel(**base, level_id="c1", value=1, requests=fast(8), calls=c1),
        LoadLevel(**base, level_id="c2", value=2, requests=fast(8)),
        LoadLevel(**base, level_id="c4", value=4, requests=fast(8), calls=c4),
    ]


def capacity_search() -> CapacityRecord:
    """Probed c1 (passed, calls 2/3 and 3/3 right: pooled 5/6) and c2 (failed, no call graded): c1."""
    right = [LevelCalls(responses=3, expect_call_responses=3, right=r) for r in (2, 3)]
    points = [{"value": 1, "met": [True, True], "goodput_req_per_s": [1.0, 1.0], "order": 1, "calls": right},
              {"value": 2, "met": [False, False], "goodput_req_per_s": [1.0, 1.0], "order": 2}]  # fmt: skip
    return CapacityRecord(candidate="a", kind="concurrency", estimate=1, lower=1, upper=2, requests_per_s=1.0,
                          out_tok_per_s=10.0, points=points, call_accuracy=5 / 6)  # fmt: skip


pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("calls-report")
    # c answers only "call", right twice (120, 140 ms), both calls written in the text: it has no no_call
    # responses at all. d answers "call" once with a <tool_call> block that does not parse; e answers "direct"
    # once without a call.
    gens = [
        *answers_a(), gen("c", "call", 0, in_text(SICK), 120.0), gen("c", "call", 1, in_text(SICK), 140.0),
        gen("d", "call", 0, in_text('{"employee_id": "E20', BROKEN), 90.0), gen("e", "direct", 0, []),
    ]  # fmt: skip
    run = write_call_run(base, "calls", gens)
    rd = RunDir(run)
    with JsonlAppender(rd.loadtest) as out:
        for lv in sweep_levels():
            out.append(lv)
    with JsonlAppender(rd.capacity) as out:
        out.append(capacity_search())
    return build_report(run, base / "out")


@pytest.fixture(scope="module")
def page(index: Path) -> Iterator[Any]:
    sync_playwright, exe = _need_browser()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        pg = b.new_page()
        dialogs: list[str] = []
        pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        pg.goto(index.as_uri())
        pg.wait_for_selector("#drill-body .calls")
        pg.dialogs = dialogs  # type: ignore[attr-defined]
        yield pg
        b.close()


def cell(page: Any, cand: str, figure: str) -> str:
    return " ".join(page.inner_text(f'#calls-table tr[data-candidate="{cand}"] td[data-figure="{figure}"]').split())


def test_the_section_shows_each_figure_with_its_counts(page: Any) -> None:
    assert page.is_visible("#calls h2") and page.inner_text("#calls h2") == "Tool calls"
    # a: expect_call answers right, wrong (leave_type), right, right; no_call answers: none, one call.
    assert cell(page, "a", "accuracy") == "75% 3/4 right"
    assert cell(page, "a", "wrong") == "25% 1/4 wrong call"
    assert cell(page, "a", "missed") == "0% 0/4 missed"
    assert cell(page, "a", "unexpected") == "50% 1/2 called"
    assert cell(page, "a", "no_call_precision") == "100% 1/1 right not to call"
    assert cell(page, "a", "unparsable") == "0% 0/6 unparsable"
    # one wrong value, over the 4 calls paired with a call to get_leave_balance
    assert (
        cell(page, "a", "args")
        == "missing 0 · wrong value 1 · wrong type 0 · invented 0 over 4 calls to the expected function"
    )
    # calls at 50, 100, 200, 300, 400 ms: p50 200, p90 300 + 0.6 x 100 = 360
    assert cell(page, "a", "latency") == "200 / 360 over 5 responses with a call"
    # pass^2 over the questions expecting a call: call 0, two_step 1 -> 1/2 (direct expects none)
    assert cell(page, "a", "pass_k") == "0.50 over 2 questions"
    # b: missed, unparsable, missed, missed; both no_call answers right; the failed request is not graded.
    assert cell(page, "b", "accuracy") == "0% 0/4 right"
    assert cell(page, "b", "missed") == "75% 3/4 missed"
    assert cell(page, "b", "no_call_precision") == "40% 2/5 right not to call"  # 2 / (2 + 3 missed)
    assert cell(page, "b", "unparsable") == "17% 1/6 unparsable"
    assert cell(page, "b", "latency") == "80 / 80 over 1 response with a call"
    # c: no no_call answer and no silent answer: those rates are not measured; calls at 120 and 140 ms:
    # p50 midway 130, p90 120 + 0.9 x 20 = 138
    assert cell(page, "c", "accuracy") == "100% 2/2 right"
    assert cell(page, "c", "unexpected") == "– no responses"
    assert cell(page, "c", "no_call_precision") == "– no responses"
    assert cell(page, "c", "latency") == "130 / 138 over 2 responses with a call"
    assert cell(page, "c", "pass_k") == "1.00 over 1 question"


def test_the_share_of_calls_written_in_the_text(page: Any) -> None:
    # a made 5 calls (call x2, two_step x2, direct x1), all through the protocol; b one ("{bad"), through it too;
    # c 2, both read from the text; d 1, from the text (it did not parse, yet it was a call made); e none.
    assert cell(page, "a", "text") == "0% 0/5 calls written in the text"
    assert cell(page, "b", "text") == "0% 0/1 call written in the text"
    assert cell(page, "c", "text") == "100% 2/2 calls written in the text"
    assert cell(page, "d", "text") == "100% 1/1 call written in the text"
    assert cell(page, "e", "text") == "– no calls made"
    # the grades are those of calls through the protocol: c's two text calls are right
    assert cell(page, "c", "accuracy") == "100% 2/2 right" and cell(page, "d", "unparsable") == "100% 1/1 unparsable"
    note = page.inner_text("#calls-in-text")
    assert "an application on a stock server would have seen text, not a call" in note
    assert '"Calls written in the text"' in note


def test_a_call_read_from_the_text_is_labelled_and_a_broken_one_gives_its_reason(page: Any) -> None:
    label = "written in the text, not through the tool-call protocol"
    c = page.locator('#drill-body tr[data-question="call"] td[data-candidate="c"] .calls[data-outcome="right"]')
    assert c.count() == 2  # both samples
    assert c.first.locator(".call-in-text").all_inner_texts() == [label]
    assert c.first.locator("table.call-pairs .call-args").all_inner_texts() == [SICK, SICK]  # expected, made
    # a call through the protocol carries no such label
    a = page.locator('#drill-body tr[data-question="call"] td[data-candidate="a"] .calls')
    assert a.count() == 2 and a.locator(".call-in-text").count() == 0
    d = page.locator('#drill-body tr[data-question="call"] td[data-candidate="d"] .calls[data-outcome="unparsable"]')
    assert d.locator(".call-in-text").all_inner_texts() == [label]
    assert d.locator(".call-problem").all_inner_texts() == [f"could not be read: {BROKEN}"]
    assert d.locator(".call-args").last.inner_text() == '{"employee_id": "E20'  # as written, cut off


def sweep_cell(page: Any, level: str, figure: str) -> str:
    row = page.locator("#sweep-table tbody tr").filter(has=page.locator(f'td:text-is("{level}")'))
    return " ".join(row.locator(f'td[data-figure="{figure}"]').inner_text().split())


def test_the_sweep_shows_each_levels_call_accuracy_with_its_counts(page: Any) -> None:
    heads = page.locator("#sweep-table thead th").all_inner_texts()
    assert heads[-2:] == ["call accuracy", "unparsable calls"]
    # c1: 2 of its 3 expect_call responses right, 1 wrong; none of its 4 graded responses unparsable
    assert sweep_cell(page, "c1", "call_accuracy") == "67% 2/3 right; 1 wrong, 0 missed"
    assert sweep_cell(page, "c1", "unparsable") == "0% 0/4 unparsable"
    # c2 graded no calls: not measured
    assert sweep_cell(page, "c2", "call_accuracy") == "–" and sweep_cell(page, "c2", "unparsable") == "–"
    # c4: 1 of 3 right, 1 missed; 1 of 4 unparsable
    assert sweep_cell(page, "c4", "call_accuracy") == "33% 1/3 right; 0 wrong, 1 missed"
    assert sweep_cell(page, "c4", "unparsable") == "25% 1/4 unparsable"
    # the capacity estimate c1: 5 of its runs' 6 expect_call responses right (pooled) -> 83%
    assert page.inner_text('#capacity-1 td[data-figure="call_accuracy"]') == "83%"
    points = page.locator('.capacity-points td[data-figure="call_accuracy"]').all_inner_texts()
    assert points == ["83%", "–"]  # c1 pooled 5/6; c2 graded none


def test_a_hostile_function_name_is_shown_as_text_and_runs_nothing(page: Any) -> None:
    names = page.locator('#drill-body td[data-candidate="a"] .calls[data-outcome="unexpected_call"] .call-name')
    assert names.all_inner_texts() == [HOSTILE_NAME]
    args = page.locator('#drill-body .calls[data-outcome="unexpected_call"] .call-args').all_inner_texts()
    assert args == ['{"x": "<b id=\\"bold\\">not bold</b>"}']
    assert page.locator("#drill-body img").count() == 0 and page.locator("#bold").count() == 0
    assert page.title() != "PWNED" and page.dialogs == []
    box = page.inner_text('#drill-body td[data-candidate="a"] .calls[data-outcome="unexpected_call"]')
    assert "unexpected call: the question is to be answered without one" in box and "no call expected" in box


def test_the_wrong_argument_is_marked_with_expected_and_got(page: Any) -> None:
    wrong = page.locator(
        '#drill-body tr[data-question="call"] td[data-candidate="a"] .calls[data-outcome="wrong_call"]'
    )
    assert wrong.count() == 1
    err = wrong.locator("li.arg-error")
    assert err.count() == 1
    assert (err.get_attribute("data-kind"), err.get_attribute("data-path")) == ("wrong_value", "leave_type")
    # the question expected 病假 (sick leave); the model passed 年假 (annual leave)
    assert err.locator(".arg-expected").inner_text() == '"病假"' and err.locator(".arg-got").inner_text() == '"年假"'
    # the expected call beside the made one
    expected, made = wrong.locator("table.call-pairs tr.fail td").all()
    assert expected.locator(".call-name").inner_text() == "get_leave_balance"
    assert expected.locator(".call-args").inner_text() == SICK
    assert made.locator(".call-name").inner_text() == "get_leave_balance"
    assert made.locator(".call-args").inner_text() == '{"employee_id": "E2051", "leave_type": "年假"}'
    q = page.inner_text('#drill-body tr[data-question="call"] td.qcell')
    assert "Expected call:" in q and '"leave_type": "病假"' in q
    assert "Expected: no call (answer directly)" in page.inner_text('#drill-body tr[data-question="direct"] td.qcell')
    missed = page.inner_text(
        '#drill-body tr[data-question="call"] td[data-candidate="b"] .calls[data-outcome="missed_call"]'
    )
    assert "missed call: no call made" in missed and "not made" in missed


def test_the_rounds_of_a_multi_step_answer_open_on_a_click(page: Any) -> None:
    steps = page.locator('#drill-body tr[data-question="two_step"] td[data-candidate="a"] details.call-steps')
    assert steps.count() == 1  # only sample 0 was recorded in rounds
    assert not steps.locator(".call-reply").is_visible()
    steps.locator("summary").click()
    assert steps.locator(".call-reply").inner_text() == 'tool reply: {"remaining_days": 3}'
    assert steps.locator(".call-step .answer").inner_text() == "还剩3天"


def test_the_packed_calls_stay_small(index: Path) -> None:
    doc = page_drilldown(index.read_text(encoding="utf-8"))
    right = doc["questions"][0]["answers"][0][0]["c"]
    # a right call carries its outcome, the call as streamed and its pairing; no reason, no argument errors
    assert right == {"o": "right", "m": [["get_leave_balance", SICK, None]], "p": [[0, 0, True, []]]}


def test_a_run_without_calls_has_no_section_and_no_call_keys(tmp_path: Path) -> None:
    run = write_synthetic_run(tmp_path / "run", 2, 6, 1, seed=2, with_perf=False)
    page = build_report(run, tmp_path / "out").read_text(encoding="utf-8")
    assert 'id="calls"' not in page and "callBlock" not in page
    doc = page_drilldown(page)
    assert all("xc" not in q and all("c" not in a for cell in q["answers"] for a in cell) for q in doc["questions"])


def test_a_sweep_without_graded_calls_has_no_call_columns(tmp_path: Path) -> None:
    run = write_synthetic_run(tmp_path / "run", 2, 6, 1, seed=2)  # with a load sweep, no question offers tools
    page = build_report(run, tmp_path / "out").read_text(encoding="utf-8")
    assert 'id="sweep-table"' in page
    assert "call accuracy" not in page and 'id="sweep-calls-note"' not in page and 'id="calls-in-text"' not in page
