"""Tables for readers: the one style every chapter's tables share.

``show(df, **formats)`` hides the index, formats the named columns (right-aligned), lets text wrap
instead of overflowing sideways and writes missing values as a dash. Headers are the chapter's
(bilingual, with units); numbers are formatted by the caller's format strings or callables.
"""
from __future__ import annotations

import pandas as pd


NOTHING = "표에 넣을 항목이 없습니다. / Nothing to tabulate."


def show(df: pd.DataFrame, empty: str = NOTHING, **formats):
    """A table for readers: no index column, the book's table style, numbers formatted and right-aligned.
    A table without rows (a small grid where nothing could be fitted) is the sentence ``empty`` instead;
    formats for columns the table lacks are ignored."""
    if df.empty:
        from IPython.display import Markdown
        return Markdown(f"*{empty}*")
    formats = {col: fmt for col, fmt in formats.items() if col in df.columns}
    align = lambda col: "text-align: right;" if col in formats else "text-align: left;"  # noqa: E731
    return (df.style.hide(axis="index").format(formats, na_rep="—")
            .set_table_attributes('class="dataframe"')
            .map_index(align, axis="columns")
            .set_properties(subset=list(formats), **{"text-align": "right"})
            .set_table_styles([{"selector": "td", "props": "white-space: normal; vertical-align: top;"}]))


def breakable(run_id: str) -> str:
    """A run id that may wrap after each underscore (``L2-d128_<wbr>D2800k_<wbr>e2``) so that a long id does not
    widen a table; ``<wbr>`` is a line-break opportunity, not a character, so a copied id stays intact."""
    return str(run_id).replace("_", "_<wbr>")


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def sci(value, digits: int = 2) -> str:
    """A number in scientific notation as prose writes it: 1.67e4 → 1.7×10⁴, 3.06e11 → 3.1×10¹¹; numbers
    between 0.01 and 1,000 keep ``digits`` significant digits without an exponent (NaN → —)."""
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    value = float(value)
    if value == 0 or 1e-2 <= abs(value) < 1e3:
        return sig(value, digits)
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    return f"{mantissa}×10{str(int(exponent)).translate(SUPERSCRIPT)}"


def sig(value, digits: int = 3) -> str:
    """A number with a few significant digits and thousands separators: 0.00412, 5.07, 12,300, 7.9e5 → 793,000."""
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    value = float(value)
    if value == 0:
        return "0"
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        if int(exponent) >= 0:
            return f"{round(value, -int(exponent) + digits - 1):,.0f}"
        return f"{value:.{digits - 1 - int(exponent)}f}".rstrip("0").rstrip(".") if int(exponent) > -5 else text
    return f"{float(text):,}" if abs(value) >= 1000 else text
