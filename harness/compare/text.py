"""``harness compare`` as text: aligned tables for a terminal (Chinese characters count as two columns)."""

from __future__ import annotations

import unicodedata

from harness.compare.runs import TEXT_FLIP_LIMIT, Comparison, QuestionKey
from harness.rollup.significance import ALPHA, PairedDiff


def _width(s: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _table(header: list[str], rows: list[list[str]], left: int = 1) -> list[str]:
    """Aligned columns: the first ``left`` columns flush left, the rest (numbers) flush right."""
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        pad = [" " * (w - _width(c)) for c, w in zip(r, widths, strict=True)]
        cells = [c + p if i < left else p + c for i, (c, p) in enumerate(zip(r, pad, strict=True))]
        return ("  " + "  ".join(cells)).rstrip()

    return [line(header), *(line(r) for r in rows)]


def _num(v: float | None, fmt: str = ".3f") -> str:
    return "–" if v is None else format(v, fmt)


def _ci(d: PairedDiff) -> str:
    return "–" if d.low is None or d.high is None else f"[{d.low:+.3f}, {d.high:+.3f}]"


def _key(k: QuestionKey) -> str:
    return f"{k[0]}/{k[1]}"


def format_comparison(c: Comparison) -> str:
    """A terminal-readable report of :func:`compare_runs`' result."""
    out = [f"A: {c.run_a}", f"B: {c.run_b}", "", "Setup changes (A -> B)"]
    if c.setup:
        rows = [[s.section, s.key, s.a if s.a is not None else "–", s.b if s.b is not None else "–"] for s in c.setup]
        out += _table(["section", "setting", "A", "B"], rows, left=4)
    else:
        out.append("  none recorded (versions, git, host, sampling, question sets, candidate models)")
    out += ["", "Candidates", f"  in both:   {', '.join(c.candidates_both) or 'none'}",
            f"  only in A: {', '.join(c.candidates_only_a) or 'none'}",
            f"  only in B: {', '.join(c.candidates_only_b) or 'none'}"]  # fmt: skip
    q = c.questions
    out += ["", "Questions", f"  common: {q.common}   only in A: {len(q.only_a)}   only in B: {len(q.only_b)}"]
    for label, keys in (("only in A", q.only_a), ("only in B", q.only_b)):
        if keys:
            more = f" (+{len(keys) - 10} more)" if len(keys) > 10 else ""
            out.append(f"  {label}: {', '.join(_key(k) for k in keys[:10])}{more}")
    out.append(f"  Quality is compared over the {q.common} common questions only.")

    if c.changes:
        out += ["", f"Rubric score, B - A (paired per question; p Holm-adjusted over {len(c.changes)}; alpha {ALPHA})"]
        rows = [[ch.candidate, str(ch.diff.n), _num(ch.mean_a), _num(ch.mean_b), _num(ch.diff.diff, "+.3f"),
                 _ci(ch.diff), _num(ch.p_holm), "yes" if ch.significant else "no", _num(ch.diff.mdd)]
                for ch in c.changes]  # fmt: skip
        out += _table(["candidate", "n", "A mean", "B mean", "B-A", "95% CI", "p", "significant", "MDD"], rows)
        out += ["", "Serving, B / A (whole runs: a ratio above 1 is faster for tok/s, slower for ms)"]
        rows = []
        for ch in c.changes:
            for i, pc in enumerate(ch.perf):
                ratio = "–" if pc.ratio is None else f"{pc.ratio:.2f}x"
                rows.append([ch.candidate if i == 0 else "", pc.metric, _num(pc.a, ",.1f"), _num(pc.b, ",.1f"), ratio])
            rows.append(["", "failed_requests", str(ch.failed_a), str(ch.failed_b), ""])
        out += _table(["candidate", "metric", "A", "B", "B/A"], rows, left=2)
        for ch in c.changes:
            for label, err in (("A", ch.server_error_a), ("B", ch.server_error_b)):
                if err:
                    out.append(f"  {ch.candidate} was not served in run {label}: {err.splitlines()[0]}")
        rule = f"half its answers acceptable: every essential check passes, else score >= {c.threshold:g}"
        out += ["", f"Acceptability changes (a question passes with {rule})"]
        for ch in c.changes:
            counts = f"{len(ch.newly_passing)} newly passing, {len(ch.newly_failing)} newly failing"
            out.append(f"  {ch.candidate}: {counts}")
            shown = [f"{f.set_id}/{f.question_id}" for f in ch.newly_passing + ch.newly_failing]
            width = max(map(_width, shown), default=0)
            for sign, flips in (("+", ch.newly_passing), ("-", ch.newly_failing)):
                for f in flips[:TEXT_FLIP_LIMIT]:
                    name = f"{f.set_id}/{f.question_id}"
                    out.append(f"    {sign} {name}{' ' * (width - _width(name))}  {f.score_a:.2f} -> {f.score_b:.2f}")
                if len(flips) > TEXT_FLIP_LIMIT:
                    out.append(f"    {sign} ... {len(flips) - TEXT_FLIP_LIMIT} more (see --json)")

    out += _call_lines(c)
    for nm in c.new_models:
        out += ["", f"New in B: {nm.candidate} (mean {_num(nm.mean_b)} on common questions) minus each A candidate"]
        rows = [[v.other, str(v.diff.n), _num(v.mean_other), _num(v.diff.diff, "+.3f"), _ci(v.diff),
                 _num(v.p_holm), "yes" if v.significant else "no"] for v in nm.versus]  # fmt: skip
        out += _table(["A candidate", "n", "A mean", "new - A", "95% CI", "p", "significant"], rows)
    out += ["", "Human review (reviewed answers of the decision variant; κ: agreement with people's acceptable)"]
    rows = [[r.run, f"{r.answers_reviewed} of {r.answers_total}" if r.answers_total else "none", str(r.reviewers),
             f"{_num(r.rubric_kappa, '.2f')} (n {r.rubric_n})" if r.answers_reviewed else "–",
             "no judge" if r.judge_n is None else f"{_num(r.judge_kappa, '.2f')} (n {r.judge_n})",
             r.judge_trust or "–", str(r.stale)] for r in c.reviews]  # fmt: skip
    out += _table(["run", "reviewed", "reviewers", "rubric κ", "judge κ", "judge", "stale grades"], rows, left=1)
    if c.notes:
        out += ["", "Notes", *(f"  {n}" for n in c.notes)]
    return "\n".join(out) + "\n"


def _call_lines(c: Comparison) -> list[str]:
    """The tool-call figures B - A and the questions whose call outcome changed; none when neither run graded
    calls (:mod:`harness.compare.calls`)."""
    changes = [ch for ch in c.changes if ch.calls is not None]
    if not changes:
        return []
    out = ["", "Tool calls, B - A (each run's graded answers; – where a run does not measure a figure)"]
    rows = []
    for ch in changes:
        assert ch.calls is not None
        for i, fig in enumerate(ch.calls.figures):
            fmt = ",.1f" if fig.metric.endswith("_ms") else ".3f"
            rows.append([ch.candidate if i == 0 else "", fig.metric, _num(fig.a, fmt), _num(fig.b, fmt),
                         _num(fig.diff, "+" + fmt)])  # fmt: skip
    out += _table(["candidate", "figure", "A", "B", "B-A"], rows, left=2)
    out += ["", "Call outcome changes (each sample's outcome, in sample order)"]
    for ch in changes:
        assert ch.calls is not None
        flips = ch.calls.changed
        out.append(f"  {ch.candidate}: graded {ch.calls.responses_a} -> {ch.calls.responses_b}; "
                   f"{len(flips)} question{'s' if len(flips) != 1 else ''} changed")  # fmt: skip
        width = max((_width(f"{f.set_id}/{f.question_id}") for f in flips), default=0)
        for f in flips[:TEXT_FLIP_LIMIT]:
            name = f"{f.set_id}/{f.question_id}"
            line = f"    ~ {name}{' ' * (width - _width(name))}  {', '.join(f.outcomes_a) or 'not graded'} -> "
            line += ", ".join(f.outcomes_b) or "not graded"
            out.append(line + (f"  ({f.detail})" if f.detail else ""))
        if len(flips) > TEXT_FLIP_LIMIT:
            out.append(f"    ~ ... {len(flips) - TEXT_FLIP_LIMIT} more (see --json)")
    return out
