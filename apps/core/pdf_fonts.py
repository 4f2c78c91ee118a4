"""The one font every PDF Credence renders is set in: WenQuanYi Micro Hei (Apache-2.0, vendored
under `fonts/` from Debian's fonts-wqy-microhei), embedded as a subset, so a contract or an
evidence pack prints the same on a machine with no Chinese font at all. reportlab's built-in CID
font STSong-Light is never embedded (the viewer must supply the glyphs), so it is not used."""

from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_NAME = "WQYMicroHei"
FONT_PATH = Path(__file__).resolve().parent / "fonts" / "wqy-microhei.ttc"


def register_cjk_font() -> str:
    """Register the font once per process; returns its name for styles and tables."""
    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH), subfontIndex=0))
    return FONT_NAME
