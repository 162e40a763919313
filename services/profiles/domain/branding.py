"""A municipality's colours must stay readable: WCAG 2.1 AA contrast (4.5:1 for normal text).

Checked pairs (a colour not set is taken as its default, white background, near-black text):
- `text_color` on `background_color`: the body text;
- `primary_color` on `background_color`: links and headings in the municipality's colour.
"""
from __future__ import annotations

from platform_common.errors import InvalidInput

AA_NORMAL_TEXT = 4.5
DEFAULTS = {"background_color": "#ffffff", "text_color": "#1a1a1a"}
PAIRS = (("text_color", "background_color"), ("primary_color", "background_color"))


def relative_luminance(color: str) -> float:
    """WCAG 2.1 relative luminance of #rrggbb."""
    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(color[i:i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)),
                             reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def check_contrast(branding: dict, *, changed: set[str] | None = None) -> None:
    """Raises InvalidInput (422) naming the field and the measured ratio of every pair below
    AA. `changed`: the fields the request set; the field reported is one of them."""
    problems = []
    for foreground, background in PAIRS:
        fg = branding.get(foreground) or DEFAULTS.get(foreground)
        bg = branding.get(background) or DEFAULTS.get(background)
        if not fg or not bg:
            continue
        ratio = contrast_ratio(fg, bg)
        if ratio >= AA_NORMAL_TEXT:
            continue
        field = foreground
        if changed is not None and foreground not in changed and background in changed:
            field = background
        problems.append((["branding", field],
                         f"{foreground} {fg} on {background} {bg} has a contrast of "
                         f"{ratio:.2f}:1; WCAG AA needs at least {AA_NORMAL_TEXT}:1 for text"))
    if problems:
        error = InvalidInput(problems)
        error.message = "Colours too low in contrast: " + "; ".join(m for _, m in problems)
        raise error
