"""Write the sample knowledge base of `make demo-kb` (docs/knowledge-base.md, "The sample knowledge base").

A fictional injection-moulding company, 华东精密注塑有限公司, keeps three documents as companies do:

- ``员工手册_2025节选.docx``: a Word handbook excerpt with two tables, annual leave by years of service
  (工龄 | 年假天数) and overtime pay (加班类型 | 工资倍数 | 能否以调休代替);
- ``注塑安全规程.pdf``: a moulding safety procedure with a ruled parameter table (材料 | 参数 | 设定值), where the
  ABS mould temperature row (60 ℃ ± 5 ℃) sits under the ABS barrel row (230 ℃ ± 10 ℃);
- ``wiki-设备点检.md``: a wiki page with the daily machine check table (点检项目 | 周期 | 标准).

The files are committed under question_sets/kb/docs/ (a user of `make demo-kb` needs neither python-docx nor
reportlab, which are development dependencies); this script writes them again from the text held here:

    python scripts/make_sample_kb.py [--out question_sets/kb/docs]

The output is byte-for-byte the same on every run (fixed zip timestamps and document dates, reportlab's
invariant mode), so a regenerated file shows in `git diff` only when its text changed.
"""

from __future__ import annotations

import argparse
import io
import zipfile
from pathlib import Path

COMPANY = "华东精密注塑有限公司"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "question_sets" / "kb" / "docs"

HANDBOOK = "员工手册_2025节选.docx"
PROCEDURE = "注塑安全规程.pdf"
WIKI = "wiki-设备点检.md"

LEAVE_HEADER = ("工龄", "年假天数")
LEAVE_ROWS = (
    ("满1年不满10年", "5天"),
    ("满10年不满20年", "10天"),
    ("满20年及以上", "15天"),
)
OVERTIME_HEADER = ("加班类型", "工资倍数", "能否以调休代替")
OVERTIME_ROWS = (
    ("工作日延长工作时间", "150%", "不能"),
    ("休息日加班", "200%", "能，优先安排同等时长调休"),
    ("法定节假日加班", "300%", "不能"),
)

PARAM_HEADER = ("材料", "参数", "设定值")
PARAM_ROWS = (
    ("ABS", "料筒温度", "230 ℃ ± 10 ℃"),
    ("ABS", "模具温度", "60 ℃ ± 5 ℃"),
    ("ABS", "注射压力", "80 MPa ± 10 MPa"),
    ("PP", "料筒温度", "210 ℃ ± 10 ℃"),
    ("PP", "模具温度", "40 ℃ ± 5 ℃"),
    ("PP", "注射压力", "60 MPa ± 10 MPa"),
)

WIKI_TEXT = f"""# 设备点检

> {COMPANY} 内部 wiki · 设备部维护 · 适用于注塑车间全部注塑机

## 每班点检

每班开机前由操作工按下表点检，结果记入《注塑机点检表》，发现异常立即停机并通知设备部。

| 点检项目 | 周期 | 标准 |
| --- | --- | --- |
| 安全门联锁 | 每班 | 打开安全门时合模动作必须立即停止 |
| 急停按钮 | 每班 | 按下后电机与加热全部停止，复位后方可重新启动 |
| 液压油温 | 每班 | 30 ℃ 至 55 ℃ |
| 液压油位 | 每周 | 在油标上下刻线之间 |

## 异常处理

液压油温超过 55 ℃ 时，先检查冷却水是否打开，再检查冷却器是否堵塞；处理完毕前不得继续生产。
"""


def _fixed_zip(data: bytes) -> bytes:
    """The same zip with every member dated 1980-01-01 00:00:00, in the same order (python-docx dates them now)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def make_handbook(path: Path) -> Path:
    """The handbook excerpt: a title (Heading 1), sections 2 年假 and 3 加班 (Heading 2), each with a table whose
    first row is its header."""
    import datetime

    import docx

    d = docx.Document()
    fixed = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    d.core_properties.created = fixed
    d.core_properties.modified = fixed
    d.core_properties.last_printed = fixed
    d.core_properties.author = COMPANY
    d.add_heading("员工手册（2025 年版节选）", level=1)
    d.add_paragraph(f"本手册适用于{COMPANY}全体正式员工，由人力资源部负责解释。")
    d.add_heading("2 年假", level=2)
    d.add_paragraph("员工按累计工龄享受带薪年假，具体天数如下表。年假当年有效，不跨年累积。")
    _table(d, LEAVE_HEADER, LEAVE_ROWS)
    d.add_heading("3 加班", level=2)
    d.add_paragraph("加班须事先经部门经理书面批准。加班工资以本人日工资为基数，按下表倍数支付。")
    _table(d, OVERTIME_HEADER, OVERTIME_ROWS)
    buf = io.BytesIO()
    d.save(buf)
    path.write_bytes(_fixed_zip(buf.getvalue()))
    return path


def _table(d: object, header: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> None:
    table = d.add_table(rows=1 + len(rows), cols=len(header))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    for r, row in enumerate((header, *rows)):
        for c, cell in enumerate(row):
            table.cell(r, c).text = cell


def make_procedure(path: Path) -> Path:
    """The moulding safety procedure: a 20 pt title, 15 pt numbered sections, 10.5 pt text and the ruled parameter
    table, in reportlab's built-in STSong-Light CID font (no font file needed); invariant mode fixes the dates and
    the document id."""
    from reportlab import rl_config
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    rl_config.invariant = 1
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    title = ParagraphStyle("t", fontName="STSong-Light", fontSize=20, leading=26)
    head = ParagraphStyle("h", fontName="STSong-Light", fontSize=15, leading=20)
    body = ParagraphStyle("b", fontName="STSong-Light", fontSize=10.5, leading=15)
    table = Table([list(PARAM_HEADER), *[list(r) for r in PARAM_ROWS]])
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), "STSong-Light"), ("FONTSIZE", (0, 0), (-1, -1), 10.5),
                               ("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))  # fmt: skip
    story = [
        Paragraph("注塑安全规程", title), Spacer(1, 8),
        Paragraph("1 适用范围", head),
        Paragraph(f"本规程适用于{COMPANY}注塑车间全部注塑机的开机、调试与停机。", body),
        Paragraph("2 个人防护", head),
        Paragraph("清理喷嘴和料筒时必须佩戴耐热手套和防护面罩；进入模具区域前必须断电并挂牌上锁。", body),
        Paragraph("3 工艺参数", head),
        Paragraph("开机前按下表设定工艺参数，偏差超出范围时停机调整：", body), table, Spacer(1, 8),
        Paragraph("4 停机", head),
        Paragraph("停机前必须将料筒温度降至 150 ℃ 以下，并关闭液压泵。", body),
    ]  # fmt: skip
    SimpleDocTemplate(str(path), pagesize=A4, title="注塑安全规程", author=COMPANY).build(story)
    return path


def make_wiki(path: Path) -> Path:
    """The wiki page, as Markdown (UTF-8)."""
    path.write_text(WIKI_TEXT, encoding="utf-8")
    return path


def make_all(out: Path) -> list[Path]:
    """Write the three documents into ``out`` (made if missing); returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    return [make_handbook(out / HANDBOOK), make_procedure(out / PROCEDURE), make_wiki(out / WIKI)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write into (default: %(default)s)")
    args = parser.parse_args(argv)
    for path in make_all(args.out):
        print(f"{path}  {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
