"""The Engagementnachweis: a German A4 PDF of a volunteer's confirmed hours, rendered with fpdf2.

The text font is Debian's DejaVu Sans (package fonts-dejavu-core, installed by the Makefile):
the PDF core fonts know no „quotes“ and only Latin-1, and a TTF embeds every glyph a name may
need. No font file is shipped with the code."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT = "DejaVu"
DEFAULT_COLOR = "#0b3d6e"   # dark blue, when the municipality has no (valid) brand colour
TEXT_COLOR = "#1a1a1a"
MAX_LISTED_DATES = 6        # more dates are shown as their count and range


@dataclass(frozen=True)
class OrganisationHours:
    name: str
    hours: float
    dates: list[date]


@dataclass(frozen=True)
class CertificateData:
    person_name: str
    municipality_name: str
    brand_color: str | None
    year: int | None
    organisations: list[OrganisationHours]
    total_hours: float
    issued_on: date
    issued_by: str | None = None


def format_hours(hours: float) -> str:
    """12.5 -> "12,5 Std.", 1250 -> "1.250 Std." (German separators, at most two decimals)."""
    text = f"{round(hours, 2):,.2f}".rstrip("0").rstrip(".")
    return text.translate(str.maketrans({",": ".", ".": ","})) + " Std."


def format_dates(dates: list[date]) -> str:
    days = sorted(set(dates))
    if not days:
        return "–"
    if len(days) <= MAX_LISTED_DATES:
        return ", ".join(_day(d) for d in days)
    return f"{len(days)} Termine vom {_day(days[0])} bis {_day(days[-1])}"


def brand_color(color: str | None) -> str:
    """The colour as #rrggbb; the default for None or anything that is not a hex colour."""
    if color and re.fullmatch(r"#[0-9a-fA-F]{6}", color):
        return color.lower()
    if color and re.fullmatch(r"#[0-9a-fA-F]{3}", color):
        return "#" + "".join(c * 2 for c in color[1:]).lower()
    return DEFAULT_COLOR


def _day(day: date) -> str:
    return day.strftime("%d.%m.%Y")


class _Certificate(FPDF):
    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(FONT, size=8)
        self.set_text_color(TEXT_COLOR)
        self.cell(0, 8, f"Seite {self.page_no()} von {{nb}}", align="C")


def render_certificate(data: CertificateData) -> bytes:
    color = brand_color(data.brand_color)
    period = str(data.year) if data.year is not None else "alle Jahre"
    pdf = _Certificate(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=22)
    pdf.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_lang("de")
    pdf.set_title(f"Engagementnachweis {data.person_name} ({period})")
    pdf.set_author(data.municipality_name)
    pdf.set_creator("Engage")
    pdf.add_page()

    def paragraph(text: str, *, size: float = 11, bold: bool = False, text_color: str = TEXT_COLOR,
                  gap: float = 2) -> None:
        pdf.set_font(FONT, "B" if bold else "", size)
        pdf.set_text_color(text_color)
        pdf.multi_cell(0, size * 0.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    paragraph(data.municipality_name, size=16, bold=True, text_color=color, gap=1)
    pdf.set_draw_color(color)
    pdf.set_line_width(0.8)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(8)
    paragraph("Engagementnachweis", size=22, bold=True, gap=4)
    paragraph(f"für {data.person_name}", size=14, bold=True)
    paragraph(f"Zeitraum: {period}", gap=6)
    paragraph(f"{data.person_name} hat sich ehrenamtlich bei den folgenden Organisationen "
              f"engagiert:", gap=4)

    pdf.set_font(FONT, size=10)
    pdf.set_draw_color("#9a9a9a")
    pdf.set_line_width(0.2)
    headings = FontFace(emphasis="BOLD", color="#ffffff", fill_color=color)
    total = FontFace(emphasis="BOLD")
    with pdf.table(col_widths=(62, 78, 30), text_align=("LEFT", "LEFT", "RIGHT"),
                   headings_style=headings, line_height=5.5, padding=1.5,
                   repeat_headings=1) as table:
        table.row(["Organisation", "Termine", "Stunden"])
        for organisation in data.organisations:
            table.row([organisation.name, format_dates(organisation.dates),
                       format_hours(organisation.hours)])
        if not data.organisations:
            table.row().cell("Keine bestätigten Stunden", colspan=3)
        row = table.row(style=total)
        row.cell("Gesamt", colspan=2)
        row.cell(format_hours(data.total_hours))
    pdf.ln(6)

    paragraph("Die Stunden wurden von den jeweiligen Organisationen bestätigt.", size=10)
    issued = f"Ausgestellt am {_day(data.issued_on)}"
    if data.issued_by:
        issued += f" von {data.issued_by}"
    paragraph(issued, size=10)
    return bytes(pdf.output())
