"""Office documents made for the tests: a Word handbook, a PDF procedure with a ruled parameter table, a
workbook and a wiki page, written from text held here (python-docx, reportlab, openpyxl; no binary fixtures).

The parameter table is the one a real procedure holds: the ABS mould temperature row (60 ℃ ± 5 ℃) sits
under the barrel temperature row (230 ℃ ± 10 ℃), so a converter that loses rows gives the wrong one.
"""

from __future__ import annotations

from pathlib import Path

TITLE = "注塑安全规程"
SECTION = "3 工艺参数"
HEADER = ("材料", "参数", "设定值")
ROWS = (
    ("ABS", "料筒温度", "230 ℃ ± 10 ℃"),
    ("ABS", "模具温度", "60 ℃ ± 5 ℃"),
    ("ABS", "注射压力", "80 MPa ± 10 MPa"),
    ("PP", "料筒温度", "210 ℃ ± 10 ℃"),
    ("PP", "模具温度", "40 ℃ ± 5 ℃"),
)
INTRO = "本规程适用于本厂全部注塑机的开机、调试与停机。"
AFTER = "停机前必须将料筒温度降至 150 ℃ 以下，并关闭液压泵。"

HANDBOOK_TITLE = "员工手册"
LEAVE_HEADER = ("工龄", "年假天数")
LEAVE_ROWS = (("满1年不满10年", "5天"), ("满10年不满20年", "10天"), ("满20年", "15天"))


def make_docx(path: Path) -> Path:
    """A handbook: a title (Heading 1), a section (Heading 2), a paragraph and a 3-row leave table."""
    import docx

    d = docx.Document()
    d.add_heading(HANDBOOK_TITLE, level=1)
    d.add_heading("2 年假", level=2)
    d.add_paragraph("员工按累计工龄享受带薪年假，具体天数如下表。")
    table = d.add_table(rows=1 + len(LEAVE_ROWS), cols=2)
    for r, row in enumerate((LEAVE_HEADER, *LEAVE_ROWS)):
        for c, cell in enumerate(row):
            table.cell(r, c).text = cell
    d.add_heading("3 加班", level=2)
    d.add_paragraph("工作日加班按1.5倍工资支付。")
    d.save(str(path))
    return path


def make_pdf(path: Path, rows: tuple[tuple[str, str, str], ...] = ROWS) -> Path:
    """The moulding procedure: a title, two numbered sections and the ruled parameter table (reportlab's
    built-in STSong-Light CID font, so no font file is needed)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    title = ParagraphStyle("t", fontName="STSong-Light", fontSize=20, leading=26)
    head = ParagraphStyle("h", fontName="STSong-Light", fontSize=15, leading=20)
    body = ParagraphStyle("b", fontName="STSong-Light", fontSize=10.5, leading=15)
    table = Table([list(HEADER), *[list(r) for r in rows]])
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), "STSong-Light"), ("FONTSIZE", (0, 0), (-1, -1), 10.5),
                               ("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))  # fmt: skip
    story = [Paragraph(TITLE, title), Spacer(1, 8), Paragraph("1 适用范围", head), Paragraph(INTRO, body),
             Paragraph(SECTION, head), Paragraph("开机前按下表设定工艺参数：", body), table, Spacer(1, 8),
             Paragraph("4 停机", head), Paragraph(AFTER, body)]  # fmt: skip
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    return path


def make_xlsx(path: Path) -> Path:
    """A workbook with one sheet, 参数表: the parameter table from A1, header first."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "参数表"
    for row in (HEADER, *ROWS):
        ws.append(list(row))
    wb.save(path)
    return path


def make_html(path: Path) -> Path:
    """A wiki page: a title, a section and the parameter table with a <th> header row."""
    cells = "".join(f"<tr>{''.join(f'<td>{c}</td>' for c in r)}</tr>" for r in ROWS)
    head = "".join(f"<th>{c}</th>" for c in HEADER)
    path.write_text(f"<html><head><title>wiki</title><style>td {{ color: red }}</style></head><body>"
                    f"<h1>{TITLE}</h1><h2>{SECTION}</h2><p>{INTRO}</p>"
                    f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"
                    f"<script>alert(1)</script></body></html>", encoding="utf-8")  # fmt: skip
    return path


def make_malformed(folder: Path) -> list[Path]:
    """The bad documents of tests/data/malformed/documents/, one kind of damage each (run once to write them):
    a scan without text (:func:`make_scan_pdf`), a PDF of blank pages, a password-protected PDF, a cut-off PDF,
    a Word file that is an OLE container (how an encrypted .docx or an old .doc looks), a cut-off .docx and
    .xlsx, a slide deck, a GBK-encoded .txt, and the misnamed files of :func:`make_misnamed`."""
    import io

    from reportlab.lib.pagesizes import A6
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen import canvas

    folder.mkdir(parents=True, exist_ok=True)
    out = []

    def write(name: str, data: bytes) -> None:
        (folder / name).write_bytes(data)
        out.append(folder / name)

    write("scanned.pdf", make_scan_pdf())
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A6)  # blank: a shape, neither characters nor images
    c.rect(20, 20, 200, 300, fill=1)
    c.showPage()
    c.save()
    write("blank.pdf", buf.getvalue())
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A6, encrypt=StandardEncryption("secret", canPrint=0))
    c.drawString(20, 300, "Mould temperature 60 C")
    c.showPage()
    c.save()
    write("encrypted.pdf", buf.getvalue())
    pdf = make_pdf(folder / "full.pdf").read_bytes()
    (folder / "full.pdf").unlink()
    write("truncated.pdf", pdf[: len(pdf) // 3])
    write("encrypted.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    docx = make_docx(folder / "full.docx").read_bytes()
    (folder / "full.docx").unlink()
    write("truncated.docx", docx[: len(docx) // 2])
    xlsx = make_xlsx(folder / "full.xlsx").read_bytes()
    (folder / "full.xlsx").unlink()
    write("truncated.xlsx", xlsx[: len(xlsx) // 2])
    write("slides.pptx", b"PK\x03\x04" + bytes(60))
    write("gbk.txt", "年假五天".encode("gbk"))
    out += make_misnamed(folder)
    return out


def make_scan_pdf() -> bytes:
    """A "scan": one page holding an image (a grey 40 x 60 pixel picture) and no characters."""
    import io

    from PIL import Image
    from reportlab.lib.pagesizes import A6
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A6)
    c.drawImage(ImageReader(Image.new("L", (40, 60), 200)), 20, 20, 200, 300)
    c.showPage()
    c.save()
    return buf.getvalue()


def make_misnamed(folder: Path) -> list[Path]:
    """Files whose suffix names another format than they hold (tests/data/malformed/documents): plain text
    renamed to .docx, a workbook saved as .docx and a PDF saved as .txt."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.docx").write_text("年假：满1年不满10年 5天。\n", encoding="utf-8")
    xlsx = make_xlsx(folder / "full.xlsx").read_bytes()
    (folder / "full.xlsx").unlink()
    (folder / "workbook.docx").write_bytes(xlsx)
    pdf = make_pdf(folder / "full.pdf").read_bytes()
    (folder / "full.pdf").unlink()
    (folder / "procedure.txt").write_bytes(pdf)
    return [folder / "notes.docx", folder / "workbook.docx", folder / "procedure.txt"]


def table_at(lines: list[str], header: str) -> list[str]:
    """The pipe-table lines that start at ``header``."""
    start = lines.index(header)
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return lines[start:end]


MERGED = (
    ("材料", "参数", "设定值", None),
    ("ABS", "料筒温度", "230 ℃", "± 10 ℃"),
    (None, "模具温度", "60 ℃", "± 5 ℃"),
    ("PP", "模具温度", "40 ℃", "± 5 ℃"),
)
"""A parameter table with merged cells: the header 设定值 spans the value and tolerance columns (row 0, columns
2-3) and the row label ABS spans two rows (rows 1-2, column 0); None marks a cell the merge covers."""


def make_merged_docx(path: Path) -> Path:
    """A Word file holding :data:`MERGED`, its merges made in Word's way (gridSpan and vMerge)."""
    import docx

    d = docx.Document()
    table = d.add_table(rows=len(MERGED), cols=len(MERGED[0]))
    for r, row in enumerate(MERGED):
        for c, text in enumerate(row):
            if text is not None:
                table.cell(r, c).text = text
    head = table.cell(0, 2).merge(table.cell(0, 3))
    head.text = "设定值"
    label = table.cell(1, 0).merge(table.cell(2, 0))
    label.text = "ABS"
    d.save(str(path))
    return path


def make_merged_xlsx(path: Path) -> Path:
    """A workbook whose sheet 参数表 holds :data:`MERGED` from A1, with the merged ranges C1:D1 and A2:A3."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "参数表"
    for row in MERGED:
        ws.append(list(row))
    ws.merge_cells("C1:D1")
    ws.merge_cells("A2:A3")
    wb.save(path)
    return path


def make_merged_html(path: Path) -> Path:
    """A page holding :data:`MERGED` as HTML writes it: ``<th colspan="2">`` and ``<td rowspan="2">``."""
    path.write_text("<html><body><table><thead><tr><th>材料</th><th>参数</th><th colspan=\"2\">设定值</th></tr></thead>"
                    "<tbody><tr><td rowspan=\"2\">ABS</td><td>料筒温度</td><td>230 ℃</td><td>± 10 ℃</td></tr>"
                    "<tr><td>模具温度</td><td>60 ℃</td><td>± 5 ℃</td></tr>"
                    "<tr><td>PP</td><td>模具温度</td><td>40 ℃</td><td>± 5 ℃</td></tr></tbody></table></body></html>",
                    encoding="utf-8")  # fmt: skip
    return path


BOLD_WARNING = "Leave not taken by 31 March is lost."
BOLD_LONG = "Every employee who has completed the probation period is entitled to paid leave"


def make_bold_docx(path: Path) -> Path:
    """A handbook as company files are often written: no Heading style anywhere, each heading a paragraph of
    bold runs ("1 Annual " + "leave", two runs). Beside them, bold text that is no heading: a bold word inside
    a sentence, the table's bold header cells, a bold warning ending in ".", a bold line over 60 characters."""
    import docx

    d = docx.Document()

    def bold(*runs: str) -> None:
        p = d.add_paragraph()
        for run in runs:
            p.add_run(run).bold = True

    bold("1 Annual ", "leave")
    p = d.add_paragraph("Leave depends on ")
    p.add_run("years").bold = True
    p.add_run(" of service.")
    table = d.add_table(rows=2, cols=2)
    for c, (head, value) in enumerate((("Years", "1 to 5 years"), ("Days", "10"))):
        table.cell(0, c).paragraphs[0].add_run(head).bold = True
        table.cell(1, c).text = value
    bold(BOLD_WARNING)
    bold(BOLD_LONG)
    bold("2 Overtime")
    d.add_paragraph("Overtime is paid at 1.5 times.")
    d.save(str(path))
    return path
