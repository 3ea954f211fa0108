"""Attachment files of the sample site: PDF (reportlab, its built-in CJK font) and DOCX (python-docx).

Plans published only as a file beside a short page need real files to crawl and read. They are made
here at start-up rather than committed, and deterministically: the same lines give the same bytes in
every run (reportlab's ``invariant`` mode fixes the creation date and document id; the DOCX zip is
rewritten with fixed timestamps and core properties), so ETags hold across restarts and a re-crawl
sees nothing new. A scanned plan is a PDF whose pages are only a picture (no text layer).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Sequence

PDF_MEDIA_TYPE = "application/pdf"
DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CJK_FONT = "STSong-Light"  # one of reportlab's built-in CID fonts: no font file needed
_FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def wrap(line: str, width: int = 28) -> list[str]:
    """Break a line as a PDF layout does: mid-sentence, at a fixed width."""
    return [line[i:i + width] for i in range(0, len(line), width)] or [""]


def make_pdf(lines: Sequence[str], *, per_page: int = 14, page_numbers: bool = True, text: bool = True,
             user_password: str | None = None, owner_password: str | None = None, width: int = 28) -> bytes:
    """A PDF of ``lines`` wrapped at ``width`` characters, ``per_page`` lines a page.

    ``text=False`` draws the page as a scan would come out: a picture only (grey bars where the
    lines would be, as one embedded raster image per page), no text layer at all.
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    wrapped = [w for line in lines for w in wrap(line, width)]
    pages = [wrapped[i:i + per_page] for i in range(0, len(wrapped), per_page)] or [[]]
    for n, page in enumerate(pages, 1):
        if text:
            c.setFont(CJK_FONT, 12)
            for i, line in enumerate(page):
                c.drawString(60, 780 - 18 * i, line)
            if page_numbers:
                c.drawString(280, 40, f"- {n} -")
        else:
            c.drawImage(_scan_image(page), 40, 60, width=515, height=740)
        c.showPage()
    c.save()
    data = buf.getvalue()
    if user_password is None and owner_password is None:
        return data
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    writer = pypdf.PdfWriter()
    for p in reader.pages:
        writer.add_page(p)
    writer.encrypt(user_password=user_password or "", owner_password=owner_password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _scan_image(page: Sequence[str]):
    """A greyscale raster of one scanned page: light paper, a dark bar per line of type."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader

    img = Image.new("L", (515, 740), 242)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(page):
        length = max(len(line), 14)
        draw.rectangle((20, 24 + 26 * i, 20 + 16 * min(length, 28), 36 + 26 * i), fill=70)
    return ImageReader(img)


def make_scanned_pdf(lines: Sequence[str], *, per_page: int = 26) -> bytes:
    """An image-only PDF (a scan): ``lines`` only decide how many bars each page shows."""
    return make_pdf([ln or "　" * 20 for ln in lines], per_page=per_page, text=False)


def make_docx(lines: Sequence[str], *, table_rows: Sequence[Sequence[str]] = ()) -> bytes:
    """A DOCX with one paragraph per line (and an optional table), byte-for-byte reproducible."""
    import docx

    document = docx.Document()
    props = document.core_properties
    props.author = props.last_modified_by = "qingdao-plans sample site"
    props.created = props.modified = dt.datetime(*_FIXED_TIME)
    props.revision = 1
    for line in lines:
        document.add_paragraph(line)
    if table_rows:
        table = document.add_table(rows=len(table_rows), cols=len(table_rows[0]))
        for r, row in enumerate(table_rows):
            for c, value in enumerate(row):
                table.cell(r, c).text = value
    buf = io.BytesIO()
    document.save(buf)
    return _fixed_zip(buf.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same zip with every member's timestamp fixed (python-docx stamps the save time)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()
