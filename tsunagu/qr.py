"""QR codes for credential offers and presentation requests (segno: pure Python, no images library).

A resident scans an ``openid-credential-offer://`` or ``openid4vp://`` URI with a phone; error
correction level M survives a printed code being slightly damaged or badly lit.
"""

from __future__ import annotations

import io

import segno

__all__ = ["qr_svg", "qr_png", "qr_svg_data_uri"]


def qr_svg(text: str) -> str:
    """An SVG document of ``text`` as a QR code."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="svg", scale=4, xmldecl=False)
    return buffer.getvalue().decode("utf-8")


def qr_svg_data_uri(text: str) -> str:
    """``data:image/svg+xml;charset=utf-8,...`` of the QR code, to put straight into an ``<img src>``."""
    return segno.make(text, error="m", micro=False).svg_data_uri(scale=4)


def qr_png(text: str) -> bytes:
    """A PNG image of ``text`` as a QR code."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=4)
    return buffer.getvalue()
