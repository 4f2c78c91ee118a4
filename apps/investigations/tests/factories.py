"""Small template documents for tests (the built-in template is tested on its own)."""

import copy

from apps.investigations.validation import FORMAT

MINIMAL = {
    "format": FORMAT,
    "code": "mini",
    "version": 1,
    "product": None,
    "name": {"en": "Mini", "zh": "迷你"},
    "sections": [{
        "code": "D",
        "title": {"en": "Figures", "zh": "数据"},
        "items": [
            {"code": "SALES", "answer_type": "money", "unit": "CNY",
             "label": {"en": "Sales", "zh": "销售额"}},
            {"code": "TAX_SALES", "answer_type": "money", "unit": "CNY",
             "label": {"en": "Tax sales", "zh": "纳税销售额"}, "evidence": {
                 "document_types": ["tax_record"], "photo_count": 0}},
            {"code": "BS", "answer_type": "table", "label": {"en": "Balance", "zh": "资产负债"},
             "columns": {"columns": [{"code": "amount", "type": "money", "en": "Amount",
                                      "zh": "金额"}],
                         "rows": [{"code": "assets", "en": "Assets", "zh": "资产"},
                                  {"code": "debts", "en": "Debts", "zh": "负债"}]}},
            {"code": "LEVERAGE", "answer_type": "derived",
             "label": {"en": "Leverage", "zh": "负债率"},
             "expression": "ratio(BS.debts.amount, BS.assets.amount)",
             "red_flag_rules": [{"code": "LEV_HIGH", "when": 'LEVERAGE > policy("t.lev")',
                                 "severity": "R2",
                                 "message": {"en": "High leverage", "zh": "负债率高"}}]},
            {"code": "NOTES", "answer_type": "text", "min_length": 20,
             "label": {"en": "Notes", "zh": "说明"},
             "validation_rules": [{"code": "LONG", "expression": "len(NOTES) >= 20",
                                   "message": {"en": "Too short", "zh": "太短"}}]},
            {"code": "KIND", "answer_type": "single_choice",
             "label": {"en": "Kind", "zh": "类型"},
             "choices": [{"code": "a", "en": "A", "zh": "甲"}, {"code": "b", "en": "B",
                                                                "zh": "乙"}]},
        ],
    }],
    "cross_checks": [{
        "code": "SALES_X", "title": {"en": "Sales", "zh": "销售"},
        "expression": "deviation(SALES, TAX_SALES)",
        "thresholds": [{"severity": "R3", "operator": ">", "policy": "t.r3"},
                       {"severity": "R2", "operator": ">", "value": "0.30"}],
        "explanation": {"en": "Sales {SALES} vs tax {TAX_SALES}: {metric} > {threshold}",
                        "zh": "销售 {SALES} 与纳税 {TAX_SALES}：{metric} > {threshold}"},
    }],
    "policies": [
        {"key": "t.lev", "value": "0.70", "unit": "ratio", "effective_from": "2024-01-01",
         "evidence": "G", "source_citation": "test", "version": 1},
        {"key": "t.r3", "value": "0.50", "unit": "ratio", "effective_from": "2024-01-01",
         "evidence": "G", "source_citation": "test", "version": 1},
    ],
}


def template_data(**changes) -> dict:
    data = copy.deepcopy(MINIMAL)
    data.update(changes)
    return data
