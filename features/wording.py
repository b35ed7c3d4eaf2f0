"""Reason sentences: how a catalogue entry's value becomes an English or Chinese sentence.

A template has ``{value}`` (with a format spec) for the customer's value and may have
``{trend}``, worded from the value's sign (``up``/``down``, or the words of
``{trend:later|earlier}``), the value then shown unsigned.
Features of :data:`PEER_FAMILIES` can add the sector median at the same date ("Debt ratio 0.85,
sector median 0.55"), formatted like the value.

What a sentence compares the value with (:func:`quotes_median`, :func:`states_sign`, at the
precision of :func:`as_shown`) is what ``models.reasons`` checks before a value may speak as a
risk: a sentence never states a favourable fact as a reason.

The templates themselves are in the catalogue (``features.catalogue``); this module only words
them, for the served model and the batch alike.
"""

from __future__ import annotations

import math
import re
import string
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from features.catalogue import FeatureSpec

LANGUAGES: tuple[str, ...] = ("en", "zh")
PEER_FAMILIES = frozenset({"late_payment", "financials", "profile"})
_PEER_CLAUSE = {"en": ", sector median {median}", "zh": "，行业中位数 {median}"}
_TREND = {"en": ("up", "down"), "zh": ("上升", "下降")}
# {trend} or {trend:later|earlier}: the word for a value >= 0 | < 0
_TREND_FIELD = re.compile(r"\{trend(?::([^|{}]*)\|([^{}]*))?\}")
_UNIT_WORDS = {
    "days": {"en": " days", "zh": " 天"},
    "months": {"en": " months", "zh": " 个月"},
    "quarters": {"en": " quarters", "zh": " 个季度"},
    "times": {"en": " times", "zh": " 倍"},
}
_NOT_AVAILABLE = {"en": "{description}: not available", "zh": "{description}：暂无数据"}
# English nouns after a count of one lose their plural ("1 month ago", "1 invoice")
_ONE = re.compile(
    r"(?<![\d.,+-])1 (days|months|quarters|invoices|times|consecutive quarters|legal disputes"
    r"|ownership changes|management changes)\b"
)


def check_language(language: str) -> None:
    """Refuse a language the catalogue is not worded in (:data:`LANGUAGES`)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; known: {list(LANGUAGES)}")


def texts(spec: FeatureSpec, language: str = "en") -> tuple[str, str]:
    """Return ``(template, missing_text)`` of ``spec`` in ``language``; English where none."""
    check_language(language)
    if language == "zh" and spec.template_zh:
        return spec.template_zh, spec.missing_text_zh
    return spec.template, spec.missing_text


def sentence(
    spec: FeatureSpec, value: float | None, language: str = "en", median: float | None = None
) -> str:
    """Return the reason sentence of ``spec`` for the customer's ``value``.

    Args:
        spec: The feature's catalogue entry.
        value: The customer's value of the feature (missing: the missing-value sentence).
        language: One of :data:`LANGUAGES`.
        median: The sector median at the same date; appended for features of
            :data:`PEER_FAMILIES` when given and not missing.
    """
    values = np.array([np.nan if value is None else value], dtype=float)
    medians = None if median is None else np.array([median], dtype=float)
    return sentences(spec, values, language, medians)[0]


def sentences(
    spec: FeatureSpec,
    values: np.ndarray,
    language: str = "en",
    medians: np.ndarray | None = None,
) -> np.ndarray:
    """Return :func:`sentence` of each of ``values`` (and ``medians``), as an object array.

    The templates are looked up once for all values: this is what scoring calls.
    """
    template, missing = texts(spec, language)
    values = np.asarray(values, dtype=float)
    out = np.full(len(values), "", dtype=object)
    out[:] = missing or _NOT_AVAILABLE[language].format(description=spec.description)
    with_median = quotes_median(spec) and medians is not None
    number, unit = _quantity_format(spec, language)
    clause = _PEER_CLAUSE[language]
    for i in np.flatnonzero(~np.isnan(values)):
        if spec.categorical:  # the value is the category's code: the sentence shows its text
            code = int(values[i])
            level = spec.levels[code] if 0 <= code < len(spec.levels) else format(values[i], "g")
            out[i] = template.format(value=level)
            continue
        text = _fill(template, float(values[i]), language)
        if with_median and not math.isnan(medians[i]):
            text += clause.format(median=format(float(medians[i]), number) + unit)
        if language == "en" and "1 " in text:
            text = _ONE.sub(lambda m: "1 " + m.group(1)[:-1], text)
        out[i] = text
    return out


def quotes_median(spec: FeatureSpec) -> bool:
    """Whether the sentence of ``spec`` adds the sector median when one is given."""
    return spec.family in PEER_FAMILIES


def states_sign(spec: FeatureSpec) -> bool:
    """Whether the sentence words the value's sign: a change or a difference, compared with 0.

    ``{trend}`` ("up", "later than the sector median") or a signed format (``{value:+.1f}``).
    """
    return bool(_TREND_FIELD.search(spec.template)) or _value_spec(spec.template).startswith("+")


def as_shown(spec: FeatureSpec, values: np.ndarray) -> np.ndarray:
    """Return ``values`` rounded to the precision the sentence shows them with.

    A comparison a sentence states ("58%, sector median 65%") holds for the shown numbers.
    """
    found = re.search(r"\.(\d+)([f%])", _value_spec(spec.template))
    values = np.asarray(values, dtype=float)
    if found is None:
        return values
    decimals = int(found.group(1)) + (2 if found.group(2) == "%" else 0)
    return np.round(values, decimals)


def quantity(spec: FeatureSpec, value: float, language: str = "en") -> str:
    """Return ``value`` formatted as the template of ``spec`` formats it, with its unit's word."""
    number, unit = _quantity_format(spec, language)
    return format(value, number) + unit


def _quantity_format(spec: FeatureSpec, language: str) -> tuple[str, str]:
    template, _ = texts(spec, language)
    number = _value_spec(template)
    if _TREND_FIELD.search(template) and not number.startswith(("+", "-", " ")):
        number = "+" + number  # the template words the sign; a bare number needs it
    return number, _UNIT_WORDS.get(spec.unit, {}).get(language, "")


def _value_spec(template: str) -> str:
    for _, field, spec, _ in string.Formatter().parse(template):
        if field == "value":
            return spec or ""
    return ""


def _fill(template: str, value: float, language: str) -> str:
    trend = _TREND_FIELD.search(template)
    if trend is None:
        return template.format(value=value)
    up, down = trend.groups() if trend.group(1) is not None else _TREND[language]
    return _TREND_FIELD.sub(up if value >= 0 else down, template).format(value=abs(value))
