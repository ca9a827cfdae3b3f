"""Test helper shared by the test modules that read a PDF written by matplotlib."""

from __future__ import annotations

import re
import zlib


def pdf_text(data: bytes) -> str:
    """The text drawn in a matplotlib PDF: its Type 42 strings are UTF-16BE literals in TJ arrays."""
    out = []
    # The line end before 'endstream' is left in the match: a compressed stream may itself end in a
    # byte '\r', which a pattern '\r?\nendstream' would strip (the page's text then went missing).
    # decompressobj stops at the end of the zlib data and ignores what follows it.
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            s = zlib.decompressobj().decompress(m.group(1))
        except zlib.error:
            continue
        for block in re.findall(rb"BT(.*?)ET", s, re.S):
            parts = re.findall(rb"\(((?:\\.|[^\\)])*)\)", block, re.S)
            raw = b"".join(re.sub(rb"\\(.)", rb"\1", p, flags=re.S) for p in parts)
            out.append(raw.decode("utf-16-be", "replace") if len(raw) % 2 == 0 else raw.decode("latin-1"))
    return "\n".join(out)
