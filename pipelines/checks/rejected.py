"""The customers validation set aside, as the score stage explains them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

# the validation rules (pipelines/checks/rules.py) in Chinese; English uses the rule's own name
_RULES_ZH = {
    "columns": "列与数据约定不符",
    "type": "格式无法识别",
    "unique key": "编号重复",
    "foreign key": "引用的记录不存在",
    "not null": "缺少必填值",
    "range": "超出允许范围",
    "allowed set": "不在允许的取值中",
    "date range": "日期超出允许范围",
    "date order": "日期先后顺序有误",
    "single currency": "币种不一致",
    "plausibility": "数值不合理",
}
_TEXT = {
    "en": "rejected by validation: {column} {rule} ({detail}; row {row} of the customers file)",
    "zh": "数据校验未通过：客户文件第 {row} 行，字段 {column}：{rule}",
}


def rejected_customers(path: Path, language: str = "en") -> pd.DataFrame:
    """``customer_id, reason`` of each customer validation rejected, for the score's rejects.

    Empty when none was rejected or when ``path`` (the customers' rejects file) does not
    exist (outputs of a validation older than quarantine). A duplicated id is listed once.
    ``reason`` is in ``language`` (``en`` or ``zh``; the column is the file's own header).
    """
    if language not in _TEXT:
        raise ValueError(f"unknown language {language!r}; known: {list(_TEXT)}")
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame({"customer_id": pd.Series(dtype=str), "reason": pd.Series(dtype=str)})
    rejects = pd.read_csv(path, dtype=str, keep_default_na=False)
    rules = rejects["rule"] if language == "en" else rejects["rule"].map(_RULES_ZH)
    fields = rejects.assign(rule=rules.fillna(rejects["rule"]))
    reason = [_TEXT[language].format(**row) for row in fields.to_dict("records")]
    found = pd.DataFrame({"customer_id": rejects["customer_id"].str.strip(), "reason": reason})
    return found.drop_duplicates("customer_id").reset_index(drop=True)
