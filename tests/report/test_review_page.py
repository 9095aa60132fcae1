"""The report's review mode in a real headless Chromium, driven by Playwright (keys, clicks, reload, download).

The run is synthetic (harness_bench/synthetic_run.py): 3 models x 12 questions x 1 sample = 36 answers, all of
which the page queues. Hostile text is planted in a question, its reference, its set's context, the answers'
own context and some answers; an earlier reviewer's grades are in ``reviews.jsonl``. The page's own script
must run (it draws the pane) while none of the planted markup does (see harness/report/browser.py).

A missing Chromium or Playwright fails these tests (``make setup``); HARNESS_SKIP_BROWSER=1 skips them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.records import HumanGrade, answer_sha256
from harness.report import browser
from harness.report.load import load_report_data
from harness.report.render import build_report
from harness.report.review_data import embedded_review
from harness.rundir import RunDir
from harness_bench.synthetic_run import write_synthetic_run

pytestmark = pytest.mark.browser
SKIP_ENV = "HARNESS_SKIP_BROWSER"
MODELS, QUESTIONS, SAMPLES = 3, 12, 1
ANSWERS = MODELS * QUESTIONS * SAMPLES  # 36

HOSTILE_ANSWER = "<img src=x onerror=\"document.title='PWNED'\"></script><script>window.__pwned=1</script>"
HOSTILE_QUESTION = "Q <script>document.body.setAttribute('data-pwned','q')</script> </script><!--"
HOSTILE_REFERENCE = "R <img src=x onerror=\"document.body.setAttribute('data-pwned','r')\">"
HOSTILE_SET_CONTEXT = 'S </script><img src=x onerror="window.__pwned=2">'
HOSTILE_CONTEXT = 'C <svg onload="window.__pwned=3"></svg> \u2028 </script>'


def _queued(report: dict[str, Any]) -> int:
    """Answers the page queues: every answer of the run that came back (a failed request has nothing to read)."""
    return sum(bool(ok) for ok in report["data"].answers.ok)


def _need_browser() -> tuple[Any, str]:
    exe = browser.find_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if exe is None or sync_playwright is None:
        what = "headless Chromium" if exe is None else "Playwright (pip install -e '.[dev]')"
        if os.environ.get(SKIP_ENV) == "1":
            pytest.skip(f"{what} not found and {SKIP_ENV}=1")
        pytest.fail(f"{what} not found: run `make setup`, or set {SKIP_ENV}=1 to skip the browser tests")
    return sync_playwright, exe


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    _need_browser()
    base = tmp_path_factory.mktemp("review-page")
    probe = write_synthetic_run(base / "probe", MODELS, QUESTIONS, SAMPLES, seed=5, with_perf=False)
    gens = [json.loads(x) for x in (probe / "generations.jsonl").read_text(encoding="utf-8").splitlines()]
    first_q = gens[0]["question_id"]
    run = write_synthetic_run(base / "run", MODELS, QUESTIONS, SAMPLES, seed=5, with_perf=False,
                              answer_texts={(1, first_q): HOSTILE_ANSWER})  # fmt: skip
    # the hostile question, reference and set context; the answers' own context
    set_file = run / "sets" / f"{gens[0]['set_id']}.yaml"
    doc = yaml.safe_load(set_file.read_text(encoding="utf-8"))
    doc["context"] = HOSTILE_SET_CONTEXT
    q = next(q for q in doc["questions"] if q["id"] == first_q)
    q["question"], q["reference"] = HOSTILE_QUESTION, HOSTILE_REFERENCE
    set_file.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    lines = []
    for line in (run / "generations.jsonl").read_text(encoding="utf-8").splitlines():
        g = json.loads(line)
        if g["question_id"] == first_q:
            g["context"] = HOSTILE_CONTEXT
        lines.append(json.dumps(g, ensure_ascii=False))
    (run / "generations.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = load_report_data(run)
    earlier = [data.answers.iloc[i] for i in (0, 1)]
    RunDir(run).write_reviews([
        HumanGrade(key=r.key, text_sha256=answer_sha256(r.text), reviewer="earlier", acceptable=True) for r in earlier
    ])  # fmt: skip
    index = build_report(run, base / "out")
    data = load_report_data(run)
    return {"index": index, "data": data, "doc": embedded_review(index.read_text(encoding="utf-8")),
            "hostile_q": first_q, "base": base}  # fmt: skip


@pytest.fixture(scope="module")
def chromium(report: dict[str, Any]) -> Iterator[Any]:
    sync_playwright, exe = _need_browser()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def _open(chromium: Any, report: dict[str, Any], context: Any = None) -> Any:
    ctx = context or chromium.new_context(accept_downloads=True)
    page = ctx.new_page()
    page.goto(report["index"].as_uri())
    return page


def _start(page: Any, name: str, n: int | None = None) -> None:
    page.click("#rv-open")
    page.fill("#rv-name", name)
    if n is not None:
        page.fill("#rv-n", str(n))
    page.press("#rv-name", "Enter")
    page.wait_for_selector("#rv-main:not([hidden])")


def _shown(page: Any) -> dict[str, str]:
    return {f: page.text_content(f"#rv-{f}") or "" for f in ("where", "question", "answer", "label", "progress")}


def test_the_report_says_how_much_is_reviewed_and_offers_review(chromium: Any, report: dict[str, Any]) -> None:
    page = _open(chromium, report)
    status = " ".join((page.text_content("#rv-status") or "").split())
    # two grades by one earlier reviewer, of the 36 answers
    assert status.startswith(f"2 of {ANSWERS} answers reviewed by 1 person (earlier) (grades added to the run")
    assert page.is_visible("#rv-open") and not page.is_visible("#rv-pane")
    page.click("#rv-open")
    assert page.is_visible("#rv-pane")
    page.click("#rv-go")  # no name yet
    assert "Give your name first" in (page.text_content("#rv-msg") or "")
    assert not page.is_visible("#rv-main")
    page.keyboard.press("Escape")  # the name field has the focus: leave it, then q closes
    page.keyboard.press("q")
    assert not page.is_visible("#rv-pane")


def test_blind_pane_names_no_candidate_and_unblind_does(chromium: Any, report: dict[str, Any]) -> None:
    page = _open(chromium, report)
    _start(page, "ana", _queued(report))
    names = report["data"].names
    seen_texts = set()
    for _ in range(_queued(report)):
        text = page.inner_text("#rv-pane")
        assert not [n for n in names if n in text], "a candidate name shows while blind"
        assert not any(k in text for k in (i["key"] for i in report["doc"]["items"]))
        seen_texts.add(page.text_content("#rv-answer"))
        page.keyboard.press("j")
    assert len(seen_texts) > 1
    page.keyboard.press("U")
    assert any(n in page.inner_text("#rv-where") for n in names)
    page.keyboard.press("U")
    assert not any(n in page.inner_text("#rv-pane") for n in names)


def test_grade_with_keys_and_clicks_reload_and_export(chromium: Any, report: dict[str, Any], tmp_path: Path) -> None:
    ctx = chromium.new_context(accept_downloads=True)
    page = _open(chromium, report, ctx)
    _start(page, "Ana Li", 6)
    assert _shown(page)["progress"] == "0 of 6 answers graded"
    shown = []
    # 1st: acceptable by key, grade 7; 2nd: not acceptable, grade 10 (key 0), a note; 3rd: a grade but no verdict;
    # 4th: acceptable by click, grade by click then cleared
    shown.append(_shown(page)["answer"])
    page.keyboard.press("y")
    page.keyboard.press("7")
    page.keyboard.press("j")
    shown.append(_shown(page)["answer"])
    page.keyboard.press("n")
    page.keyboard.press("0")
    page.keyboard.press("c")
    page.keyboard.type("wrong number <b>")
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowRight")
    shown.append(_shown(page)["answer"])
    page.keyboard.press("3")
    page.click("#rv-next")
    shown.append(_shown(page)["answer"])
    page.click("#rv-yes")
    page.click("#rv-grades button:nth-child(4)")
    page.keyboard.press("x")
    assert _shown(page)["progress"] == "3 of 6 answers graded"  # the 3rd has no yes/no: not graded
    for _ in range(6):
        page.keyboard.press("k")
    assert _shown(page)["answer"] == shown[0]
    order = []
    for _ in range(6):
        order.append((_shown(page)["where"], _shown(page)["answer"]))
        page.keyboard.press("j")
    for _ in range(6):
        page.keyboard.press("k")

    page.reload()
    page.click("#rv-open")
    assert page.input_value("#rv-name") == "Ana Li"  # the last reviewer is offered
    page.fill("#rv-n", "6")
    page.press("#rv-name", "Enter")
    page.wait_for_selector("#rv-main:not([hidden])")
    assert _shown(page)["progress"] == "3 of 6 answers graded"
    again = []
    for _ in range(6):
        again.append((_shown(page)["where"], _shown(page)["answer"]))
        page.keyboard.press("j")
    assert again == order  # the same reviewer sees the same order after a reload
    for _ in range(6):
        page.keyboard.press("k")
    assert page.text_content("#rv-verdict") == "acceptable"
    assert page.get_attribute("#rv-grades button:nth-child(7)", "class") == "rv-on"

    with page.expect_download() as info:
        page.keyboard.press("e")
    download = info.value
    run = report["data"].plan.name
    assert download.suggested_filename == f"review-{run}-Ana_Li.json"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert {k: doc[k] for k in ("format", "version", "run", "reviewer", "blind")} == {
        "format": "harness-review", "version": 1, "run": run, "reviewer": "Ana Li", "blind": True}  # fmt: skip
    assert doc["exported_at"].endswith("Z")
    by_sha = {g["sha256"]: g for g in doc["grades"]}
    assert len(doc["grades"]) == 3 and len(by_sha) == 3
    first, second, fourth = (by_sha[answer_sha256(shown[i])] for i in (0, 1, 3))
    assert (first["acceptable"], first["grade"], first["note"]) == (True, 7, "")
    assert (second["acceptable"], second["grade"], second["note"]) == (False, 10, "wrong number <b>")
    assert (fourth["acceptable"], fourth["grade"]) == (True, None)
    answers = report["data"].answers.set_index("key")
    for g in doc["grades"]:  # each key names the answer whose text has that sha256
        assert answer_sha256(answers.loc[g["key"], "text"]) == g["sha256"]
        assert g["at"].endswith("Z")
    assert "Exported 3 grades" in (page.text_content("#rv-msg") or "")
    ctx.close()

    # a fresh browser (no stored grades) continues from the file
    page = _open(chromium, report)
    page.click("#rv-open")
    page.set_input_files("#rv-file", str(path))
    page.wait_for_selector("#rv-main:not([hidden])")
    assert "Loaded 3 of 3 grades" in (page.text_content("#rv-msg") or "")
    n = min(60, _queued(report))  # the page's default N
    assert _shown(page)["progress"] == f"3 of {n} answers graded"
    assert page.text_content("#rv-verdict") == "acceptable"

    # a changed answer (another sha256), an answer not queued, and another reviewer's file are not attached
    tampered = dict(doc, grades=[dict(doc["grades"][0], sha256="0" * 64), dict(doc["grades"][1], key="nope/x/y/0")])
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(tampered), encoding="utf-8")
    fresh = _open(chromium, report)
    fresh.click("#rv-open")
    fresh.set_input_files("#rv-file", str(bad))
    fresh.wait_for_selector("#rv-main:not([hidden])")
    msg = fresh.text_content("#rv-msg") or ""
    assert "Loaded 0 of 2 grades" in msg
    assert (
        "1 not attached: the answer's text differs" in msg and "1 not attached: the answer is not in this page" in msg
    )
    assert _shown(fresh)["progress"] == f"0 of {n} answers graded"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(dict(doc, reviewer="Bo")), encoding="utf-8")
    fresh.set_input_files("#rv-file", str(other))
    fresh.wait_for_function("document.getElementById('rv-msg').textContent.indexOf(\"Bo's grades\") >= 0")


def test_another_reviewer_sees_another_order(chromium: Any, report: dict[str, Any]) -> None:
    orders = []
    for name in ("ana", "bo"):
        page = _open(chromium, report)
        _start(page, name, _queued(report))
        seq = []
        for _ in range(_queued(report)):
            seq.append(page.text_content("#rv-answer"))
            page.keyboard.press("j")
        orders.append(seq)
    # same answers, 12 questions of 3 answers: the chance that two names draw the same 12 orders is 6^-12
    assert sorted(orders[0]) == sorted(orders[1]) and orders[0] != orders[1]


def test_hostile_text_shows_as_text_and_runs_nothing(chromium: Any, report: dict[str, Any]) -> None:
    page = _open(chromium, report)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _start(page, "eve", _queued(report))
    assert _shown(page)["progress"] == f"0 of {_queued(report)} answers graded"  # the page's own script ran
    hits, sides = [], []
    for _ in range(_queued(report)):
        if page.text_content("#rv-question") == HOSTILE_QUESTION:
            hits.append(_shown(page)["answer"])
            sides.append([page.text_content(f"#rv-{f}") for f in ("reference", "set-context", "context")])
        page.keyboard.press("j")
    page.keyboard.press("U")  # unblinded, the reasons and keys are drawn too
    page.wait_for_timeout(200)  # let any image error handler fire
    # nothing planted ran (a page that wrote the answer as HTML sets the title here: checked by hand)
    assert page.evaluate("document.body.getAttribute('data-pwned')") is None
    assert page.evaluate("window.__pwned === undefined")
    assert page.title() != "PWNED" and not dialogs
    assert page.evaluate("document.querySelectorAll('#rv-pane img, #rv-pane svg, #rv-pane script').length") == 0
    # ... and everything shows as the text it is
    assert len(hits) == MODELS and HOSTILE_ANSWER in hits
    assert sides == [[HOSTILE_REFERENCE, HOSTILE_SET_CONTEXT, HOSTILE_CONTEXT]] * MODELS
    assert HOSTILE_ANSWER not in report["index"].read_text(encoding="utf-8")  # packed, not in the clear


def test_a_review_round_reaches_the_figures_and_the_decision(
    chromium: Any, report: dict[str, Any], tmp_path: Path
) -> None:
    """The whole round: grade 10 answers blind by keys, export, ``harness review add``, build the report
    again; the new report counts the grades and measures the rubric against them.

    The reviewer agrees with the rubric on every answer but the first it accepts, which she rejects:
    one false pass. With the earlier reviewer's two acceptances, the expected confusion counts, κ and
    precision are worked out below from the answers' rubric verdicts, independently of the report code."""
    import shutil

    from harness.cli import main

    run = tmp_path / "run"
    shutil.copytree(report["index"].parent.parent / "run", run)
    index = build_report(run, tmp_path / "before")
    data = load_report_data(run)
    question = {(s.id, q.id): q.question for s in data.sets.values() for q in s.questions}
    # the page shows the question and the answer; the rubric's verdict is a function of the two
    verdict: dict[tuple[str, str], bool] = {}
    for r in data.answers[data.answers.ok].itertuples():
        shown = (question[(r.set_id, r.question_id)], r.text)
        assert verdict.setdefault(shown, bool(r.acceptable)) == bool(r.acceptable)

    page = chromium.new_context(accept_downloads=True).new_page()
    page.goto(index.as_uri())
    _start(page, "Rita", 10)
    human: dict[tuple[str, str], bool] = {}
    rejected_one = False
    for _ in range(10):
        shown = (page.text_content("#rv-question") or "", page.text_content("#rv-answer") or "")
        yes = verdict[shown]
        if yes and not rejected_one:
            yes, rejected_one = False, True
        human[shown] = yes
        page.keyboard.press("y" if yes else "n")
        page.keyboard.press("8" if yes else "2")
        page.keyboard.press("j")
    assert rejected_one and _shown(page)["progress"] == "10 of 10 answers graded"
    with page.expect_download() as info:
        page.keyboard.press("e")
    exported = tmp_path / info.value.suggested_filename
    info.value.save_as(exported)

    assert main(["review", "add", str(run), str(exported)]) == 0
    assert main(["review", "add", str(run), str(exported)]) == 0  # the same file again adds nothing
    grades = RunDir(run).read_reviews()
    assert len(grades) == 12 and {g.reviewer for g in grades} == {"earlier", "Rita"}

    # expected figures, by hand: each reviewed answer's human verdict against the rubric's
    rows = data.answers.set_index("key")
    pairs = []  # (rubric acceptable, human acceptable)
    for g in grades:
        r = rows.loc[g.key]
        pairs.append((bool(r.acceptable), g.acceptable))
    assert len({g.key for g in grades}) == 12  # no answer graded twice: one verdict per answer
    tp = sum(m and h for m, h in pairs)
    fp = sum(m and not h for m, h in pairs)
    fn = sum(h and not m for m, h in pairs)
    tn = sum(not m and not h for m, h in pairs)
    n = len(pairs)
    p_o = (tp + tn) / n
    p_e = ((tp + fp) / n) * ((tp + fn) / n) + ((fn + tn) / n) * ((fp + tn) / n)
    kappa = (p_o - p_e) / (1 - p_e)
    assert fp >= 1

    after = build_report(run, tmp_path / "after")
    page.goto(after.as_uri())
    coverage = " ".join((page.text_content("#review-coverage") or "").split())
    assert coverage.startswith(f"12 of {ANSWERS} answers reviewed") and "2 reviewers (Rita, earlier)" in coverage
    row = page.locator('#review-agreement tr[data-grader="rubric"] td')
    cells = [c.strip() for c in row.all_text_contents()]
    assert cells[1] == "12" and abs(float(cells[2]) - kappa) <= 0.005 + 1e-9  # shown to 2 decimals
    assert cells[3] == f"{tp / (tp + fp):.0%}"
    assert [int(c) for c in cells[5:9]] == [tp, fp, fn, tn]
    per_candidate = {
        r.get_attribute("data-candidate"): [c.strip() for c in r.locator("td").all_text_contents()]
        for r in page.locator("#review-candidates tbody tr").all()
    }
    by_candidate: dict[str, list[bool]] = {}
    for g in grades:
        by_candidate.setdefault(str(rows.loc[g.key].candidate), []).append(g.acceptable)
    assert {c: (int(v[1]), int(v[2])) for c, v in per_candidate.items()} == {
        c: (len(v), sum(v)) for c, v in by_candidate.items()
    }
    line = " ".join((page.text_content("#review-line") or "").split())
    assert line.startswith("Human grades: 12 answers reviewed by 2 reviewers (12 grades)")
    # the false pass is listed with the checks that let it through
    assert page.locator('#review-misses ul[data-kind="false pass"] > li').count() == fp
