"""The Engagementnachweis PDF: rendered, then read back with Debian's `pdftotext` (poppler-utils,
installed by `make install`) the way a reader or a screen reader would get the text."""
from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date

import pytest

from services.profiles.domain.certificate import (
    DEFAULT_COLOR, CertificateData, OrganisationHours, brand_color, format_dates, format_hours,
    render_certificate)

ISSUED = date(2026, 12, 2)


def certificate(**fields) -> CertificateData:
    values = dict(
        person_name="Jürgen Müßig", municipality_name="Stadt Köln", brand_color="#0b5ea8",
        year=2026, total_hours=52.5, issued_on=ISSUED, issued_by="Tafel Köln e. V.",
        organisations=[
            OrganisationHours("Tafel Köln e. V.", 12.5, [date(2026, 4, 5), date(2026, 3, 1)]),
            OrganisationHours("„Kleiderkammer“ Süd", 40,
                              [date(2026, 1, day) for day in range(1, 20)])])
    values.update(fields)
    return CertificateData(**values)


def run(tool: str, pdf: bytes, tmp_path, *extra: str) -> str:
    assert shutil.which(tool), f"{tool} missing: `make install` installs Debian's poppler-utils"
    path = tmp_path / "nachweis.pdf"
    path.write_bytes(pdf)
    return subprocess.run([tool, str(path), *extra], capture_output=True, text=True,
                          check=True).stdout


def text_of(pdf: bytes, tmp_path, *pages: str) -> str:
    """The PDF's text with runs of whitespace as one space (table cells wrap lines)."""
    return re.sub(r"\s+", " ", run("pdftotext", pdf, tmp_path, *pages, "-"))


def pages_of(pdf: bytes, tmp_path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", run("pdfinfo", pdf, tmp_path), re.M).group(1))


def test_certificate_names_person_organisations_and_hours(tmp_path):
    pdf = render_certificate(certificate())
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf, tmp_path)
    for expected in ("Stadt Köln", "Engagementnachweis", "Jürgen Müßig", "Zeitraum: 2026",
                     "Tafel Köln e. V.", "„Kleiderkammer“ Süd", "12,5 Std.", "40 Std.",
                     "Gesamt", "52,5 Std.", "01.03.2026, 05.04.2026",
                     "19 Termine vom 01.01.2026 bis 19.01.2026",
                     "Ausgestellt am 02.12.2026 von Tafel Köln e. V.",
                     "von den jeweiligen Organisationen bestätigt"):
        assert expected in text, expected
    assert pages_of(pdf, tmp_path) == 1


def test_all_years_without_issuer_and_without_hours(tmp_path):
    pdf = render_certificate(certificate(year=None, issued_by=None, organisations=[],
                                         total_hours=0, brand_color=None))
    text = text_of(pdf, tmp_path)
    assert "Zeitraum: alle Jahre" in text
    assert "Keine bestätigten Stunden" in text
    assert "Gesamt 0 Std." in text
    assert "Ausgestellt am 02.12.2026" in text
    assert "Ausgestellt am 02.12.2026 von" not in text


def test_thirty_organisations_paginate_without_losing_a_row(tmp_path):
    organisations = [OrganisationHours(f"Verein Nr. {n:02d} Düsseldorf", n + 0.5,
                                       [date(2026, 1 + n % 12, 1 + n % 28), date(2026, 12, 1)])
                     for n in range(1, 31)]
    total = sum(o.hours for o in organisations)
    pdf = render_certificate(certificate(organisations=organisations, total_hours=total))
    text = text_of(pdf, tmp_path)
    assert pages_of(pdf, tmp_path) >= 2
    for n in range(1, 31):
        assert f"Verein Nr. {n:02d} Düsseldorf" in text, n
        assert f"{n},5 Std." in text, n
    assert format_hours(total) in text
    assert re.search(r"Seite 2 von [23]", text)
    second_page = text_of(pdf, tmp_path, "-f", "2", "-l", "2")
    assert {"Organisation", "Termine", "Stunden"} <= set(second_page.split())   # headings repeat


def test_odd_names_do_not_break_rendering(tmp_path):
    # A glyph DejaVu lacks is left out (fpdf2 logs it), never an error; a long name wraps.
    pdf = render_certificate(certificate(person_name="Ana Łukasiewicz-Ørsted 李 " + "x" * 200,
                                         brand_color="rot"))
    text = text_of(pdf, tmp_path)
    assert "Ana Łukasiewicz-Ørsted" in text
    assert "Tafel Köln e. V." in text


@pytest.mark.parametrize("hours, expected", [
    (12.5, "12,5 Std."), (3, "3 Std."), (0, "0 Std."), (0.25, "0,25 Std."),
    (1 / 3, "0,33 Std."), (12.499999, "12,5 Std."), (1250, "1.250 Std."), (1250.5, "1.250,5 Std.")])
def test_hours_have_german_separators(hours, expected):
    assert format_hours(hours) == expected


def test_dates_are_sorted_unique_and_shortened_when_many():
    assert format_dates([date(2026, 3, 1), date(2026, 1, 9), date(2026, 3, 1)]) == (
        "09.01.2026, 01.03.2026")
    assert format_dates([]) == "–"
    many = [date(2026, month, 1) for month in range(1, 13)]
    assert format_dates(many) == "12 Termine vom 01.01.2026 bis 01.12.2026"


@pytest.mark.parametrize("given, expected", [
    ("#0b5ea8", "#0b5ea8"), ("#0B5EA8", "#0b5ea8"), ("#abc", "#aabbcc"), (None, DEFAULT_COLOR),
    ("", DEFAULT_COLOR), ("blue", DEFAULT_COLOR), ("#12345g", DEFAULT_COLOR),
    ("#0b5ea8; evil", DEFAULT_COLOR)])
def test_brand_color_falls_back_to_dark_blue(given, expected):
    assert brand_color(given) == expected
