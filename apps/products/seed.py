"""Four realistic products, shipped as seed data (design defaults, evidence G: a bank sets its own).

Thresholds here are *data* loaded through the services, and every one is editable as a new
version; none is read by code.
"""

import datetime as dt
from decimal import Decimal

from django.db import transaction

from apps.products.models import CollateralType, CreditProduct, RepaymentMethod
from apps.products.services import (
    entry_condition_add,
    product_create,
    product_version_draft,
    product_version_publish,
)

_BANK_POLICY = "Bank credit policy (design default, domain reference §2.7/§3.1)"

SEED_PRODUCTS = [
    {
        "code": "tax-credit-loan",
        "name_en": "Tax-record credit loan", "name_zh": "税务信用贷（银税互动）",
        "description": "Unsecured working-capital loan for small and micro firms with a good "
                       "tax record, sized on tax-declared revenue.",
        "terms": {"amount_min": Decimal("10000"), "amount_max": Decimal("3000000"),
                  "term_min_months": 3, "term_max_months": 12,
                  "rate_min": Decimal("3.450"), "rate_max": Decimal("6.000"),
                  "repayment_methods": [RepaymentMethod.EQUAL_INSTALMENT,
                                        RepaymentMethod.INTEREST_ONLY_BULLET],
                  "collateral_types": [CollateralType.NONE]},
        "conditions": [
            ("years-in-operation", "years_in_operation", "gte", "2",
             "In operation for at least 2 years", "持续经营满2年"),
            ("tax-rating", "tax_credit_rating", "in", ["A", "B", "M"],
             "Tax credit rating A, B or M", "纳税信用等级为A、B或M级"),
            ("size-class", "size_class", "in", ["micro", "small"],
             "Small or micro enterprise", "小型或微型企业"),
            ("controller-age", "controller_age", "between", ["18", "65"],
             "Actual controller aged 18 to 65", "实际控制人年龄18至65周岁"),
            ("revenue-band", "annual_revenue", "gte", "1000000",
             "Annual revenue of at least CNY 1 million", "年营业收入不低于100万元"),
            ("industry-negative-list", "industry", "not_in", ["J", "K"],
             "Not in finance or real estate", "不属于金融业、房地产业"),
        ],
    },
    {
        "code": "property-operating-loan",
        "name_en": "Property-secured operating loan", "name_zh": "房产抵押经营贷",
        "description": "Operating loan secured by a mortgage over residential or commercial "
                       "property, for small and medium firms.",
        "terms": {"amount_min": Decimal("100000"), "amount_max": Decimal("10000000"),
                  "term_min_months": 12, "term_max_months": 36,
                  "rate_min": Decimal("3.200"), "rate_max": Decimal("5.500"),
                  "repayment_methods": [RepaymentMethod.EQUAL_INSTALMENT,
                                        RepaymentMethod.EQUAL_PRINCIPAL,
                                        RepaymentMethod.INTEREST_ONLY_BULLET],
                  "collateral_types": [CollateralType.PROPERTY]},
        "conditions": [
            ("years-in-operation", "years_in_operation", "gte", "1",
             "In operation for at least 1 year", "持续经营满1年"),
            ("size-class", "size_class", "in", ["micro", "small", "medium"],
             "Micro, small or medium enterprise", "中小微企业"),
            ("controller-age", "controller_age", "between", ["18", "70"],
             "Actual controller aged 18 to 70", "实际控制人年龄18至70周岁"),
            ("tax-rating", "tax_credit_rating", "not_in", ["D"],
             "No serious tax dishonesty (rating D)", "纳税信用等级非D级"),
        ],
    },
    {
        "code": "guaranteed-loan",
        "name_en": "Guaranteed loan", "name_zh": "保证贷款",
        "description": "Loan guaranteed by a guarantee company or by the controller and "
                       "spouse, for firms without property to pledge.",
        "terms": {"amount_min": Decimal("100000"), "amount_max": Decimal("5000000"),
                  "term_min_months": 6, "term_max_months": 36,
                  "rate_min": Decimal("3.650"), "rate_max": Decimal("6.500"),
                  "repayment_methods": [RepaymentMethod.EQUAL_INSTALMENT,
                                        RepaymentMethod.INTEREST_ONLY_BULLET],
                  "collateral_types": [CollateralType.GUARANTEE_COMPANY,
                                       CollateralType.GUARANTEE_PERSON]},
        "conditions": [
            ("years-in-operation", "years_in_operation", "gte", "1",
             "In operation for at least 1 year", "持续经营满1年"),
            ("tax-rating", "tax_credit_rating", "not_in", ["C", "D"],
             "Tax credit rating better than C", "纳税信用等级高于C级"),
            ("industry-negative-list", "industry", "not_in", ["J", "K"],
             "Not in finance or real estate", "不属于金融业、房地产业"),
            ("employees", "employees", "gte", "3",
             "At least 3 employees", "从业人员不少于3人"),
        ],
    },
    {
        "code": "supply-chain-receivables",
        "name_en": "Supply-chain receivables loan", "name_zh": "供应链应收账款融资",
        "description": "Short loan against receivables owed by an approved core buyer.",
        "terms": {"amount_min": Decimal("50000"), "amount_max": Decimal("5000000"),
                  "term_min_months": 3, "term_max_months": 12,
                  "rate_min": Decimal("3.300"), "rate_max": Decimal("5.800"),
                  "repayment_methods": [RepaymentMethod.INTEREST_ONLY_BULLET,
                                        RepaymentMethod.REVOLVING],
                  "collateral_types": [CollateralType.RECEIVABLES]},
        "conditions": [
            ("years-in-operation", "years_in_operation", "gte", "1",
             "In operation for at least 1 year", "持续经营满1年"),
            ("industry", "industry", "in", ["C", "F", "G"],
             "Manufacturing, trade or logistics", "制造业、批发零售业或交通运输仓储业"),
            ("revenue-band", "annual_revenue", "gte", "2000000",
             "Annual revenue of at least CNY 2 million", "年营业收入不低于200万元"),
        ],
    },
]


@transaction.atomic
def seed_products(*, effective_from: dt.date = dt.date(2026, 1, 1)) -> int:
    """Create and publish the seed products that do not exist yet; returns how many."""
    created = 0
    for spec in SEED_PRODUCTS:
        if CreditProduct.objects.filter(code=spec["code"]).exists():
            continue
        product = product_create(code=spec["code"], name_en=spec["name_en"],
                                 name_zh=spec["name_zh"], description=spec["description"])
        version = product_version_draft(product=product,
                                        source_citation=_BANK_POLICY, **spec["terms"])
        for code, fact, operator, value, reason_en, reason_zh in spec["conditions"]:
            entry_condition_add(version=version, code=code, fact=fact, operator=operator,
                                value=value, reason_en=reason_en, reason_zh=reason_zh,
                                source_citation=_BANK_POLICY, evidence="G")
        product_version_publish(version_id=version.pk, effective_from=effective_from)
        created += 1
    return created
