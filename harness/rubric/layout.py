"""Where a bare figure takes a unit written elsewhere in the answer, for the ``number`` check: a
markdown table's header ("| 天数（天） |"), a label ("Hotel limit (GBP): London 180"), and what the
question says about the figures asked (:class:`Layout`).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field


@dataclass
class Layout:
    """Where a bare figure takes a unit written elsewhere: table cells under a header that names
    it ("| 天数（天） |", "| Hotel limit (GBP/night) |", "| Days |") and text after a label that
    does ("Hotel limit (GBP): London 180"); and each table row's label (its first cell)."""

    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    factors: list[float] = field(default_factory=list)
    rows: list[tuple[int, int, str]] = field(default_factory=list)
    labels: frozenset[str] = frozenset()
    """Words the question writes right before a figure (Line 3, Room 5): before a bare figure of
    the answer they make it a label, not an amount."""
    qualifiers: frozenset[str] = frozenset()
    """Words the question writes before a unit ("overtime hours"): between a figure and its unit
    they do not make it another unit ("5 overtime hours" is 5 hours)."""
    periods: frozenset[str] = frozenset()
    """Periods of the check's rates the question fixes (:func:`question_periods`)."""
    amount_asked: bool = False
    """The question asks an amount (几/多少/how many...), not which one (第几/哪/which): then even a
    check without a unit takes no date, clock time, ordinal or identifier as the answer (5S is no
    5 steps, ISO 9001 no 9001 of anything)."""
    interval_asked: bool = False
    """The question asks how often (每隔多少个月？, how often): 每年 / once a year is then an interval."""
    money: float | None = None
    """The factor of the check's money spelling when the question asks an amount: a bare figure
    written with 万 or 亿 ("5万", "六十万") is then money."""
    magnitude: float = 1.0
    """The magnitude the question asks in (多少万元: 10000); a bare 六十万 already holds it."""

    def factor(self, head: int, end: int) -> float | None:
        k = bisect.bisect_right(self.starts, head) - 1
        return self.factors[k] if k >= 0 and end <= self.ends[k] else None

    def other_rows(self, question: str) -> list[tuple[int, int]]:
        """Rows about another case: when the question names some rows' labels (London), the rest."""
        q = question.casefold()
        named = [len(label) >= 2 and label in q for _, _, label in self.rows]
        return [(a, b) for (a, b, _), n in zip(self.rows, named, strict=True) if not n] if any(named) else []


def read_layout(text: str, spellings: dict[str, float]) -> Layout:
    regions: list[tuple[int, int, float]] = []
    out = Layout()
    for sp, f in spellings.items():
        label = rf"[(（]\s*(?:单位\s*[:：]\s*)?{re.escape(sp)}(?:\s*/[^)）\n]{{0,16}})?\s*[)）]\s*[:：]"
        for m in re.finditer(label, text, re.IGNORECASE):
            stop = re.compile(r"[。；;\n]|\.(?=\s|$)").search(text, m.end())
            regions.append((m.end(), stop.start() if stop else len(text), f))
    if "|" in text:
        columns: dict[int, float] = {}
        previous: list[tuple[int, int]] = []
        pos = 0
        for line in text.splitlines(keepends=True):
            row = line.strip().startswith("|")
            spans = [(pos + m.start(1), pos + m.end(1)) for m in re.finditer(r"\|([^|\n]*)(?=\|)", line)] if row else []
            if row and re.fullmatch(r"\s*\|?[\s:|-]*-{2,}[\s:|-]*\n?", line) and previous:
                heads = [_header_unit(text[a:b], spellings) for a, b in previous]
                columns = {i: unit for i, unit in enumerate(heads) if unit is not None}
            elif row and previous:
                regions += [(a, b, columns[i]) for i, (a, b) in enumerate(spans) if i in columns]
                label = text[spans[0][0] : spans[0][1]].strip(" *").casefold() if spans else ""
                out.rows.append((pos, pos + len(line), label))
            elif not row:
                columns = {}
            previous = spans
            pos += len(line)
    for a, b, f in sorted(regions):
        out.starts.append(a)
        out.ends.append(b)
        out.factors.append(f)
    return out


def _header_unit(cell: str, spellings: dict[str, float]) -> float | None:
    c = cell.strip().strip("*").strip().casefold()
    for sp, f in spellings.items():
        s = re.escape(sp)
        if re.search(rf"[(（\[]\s*{s}\s*(?:/[^)）\]]*)?[)）\]]|单位\s*[:：]\s*{s}|/\s*{s}$|^{s}s?$|^{s}数$", c):
            return f
    return None
