"""QR codes (PNG) of deep links, for a coordinator to show at an event."""

from __future__ import annotations

import io

import segno

BORDER = 4  # the quiet zone the QR standard asks for, in modules


def qr_png(data: str, *, scale: int = 10) -> bytes:
    """`data` as a QR code PNG: error correction M, a 4-module border, `scale` px/module.

    Always a full QR code (never a Micro QR, which phone cameras do not read).
    """
    if not data:
        raise ValueError("nothing to encode")
    if scale < 1:
        raise ValueError(f"scale must be at least 1, not {scale}")
    qr = segno.make_qr(data, error="m", boost_error=False)
    out = io.BytesIO()
    qr.save(out, kind="png", scale=scale, border=BORDER)
    return out.getvalue()
