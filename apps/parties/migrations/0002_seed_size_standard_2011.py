"""Seed the 2011 SME size standard (domain reference §5.5) as policy data.

The rows are copied here, not imported from app code, so this migration replays the same data
forever. A later standard arrives as a new version (new rows, new effective_from) and closes
this one with effective_to; it never edits these rows in place.
"""

import datetime as dt
from decimal import Decimal

from django.db import migrations

VERSION = "CN-MIIT-2011-300"
EFFECTIVE_FROM = dt.date(2011, 6, 18)  # date of issue of the notice [M]
CITATION = (
    "《中小企业划型标准规定》 (MIIT, NBS, NDRC, MOF; 工信部联企业〔2011〕300号, document number [M]); "
    "figures as in Credence domain reference §5.5 [V]. Industry scope mapped to GB/T 4754-2017 "
    "codes by Credence [M]: check against 《统计上大中小微型企业划分办法（2017）》 before production; "
    "effective date [M]."
)

E, R, A = "employees", "revenue", "assets"

# (row, label, scope, metric_a, metric_b, ceiling a/b, medium a/b, small a/b, micro a/b, evidence)
ROWS = [
    (1, "农林牧渔业", ["A"], R, "", (20000, None), (500, None), (50, None), (50, None), "V"),
    (2, "工业", ["B", "C", "D"], E, R, (1000, 40000), (300, 2000), (20, 300), (20, 300), "V"),
    (3, "建筑业", ["E"], R, A, (80000, 80000), (6000, 5000), (300, 300), (300, 300), "V"),
    (4, "批发业", ["F51"], E, R, (200, 40000), (20, 5000), (5, 1000), (5, 1000), "V"),
    (5, "零售业", ["F52"], E, R, (300, 20000), (50, 500), (10, 100), (10, 100), "V"),
    (6, "交通运输业", ["G53", "G54", "G55", "G56", "G57", "G58"], E, R,
     (1000, 30000), (300, 3000), (20, 200), (20, 200), "V"),
    (7, "仓储业", ["G59"], E, R, (200, 30000), (100, 1000), (20, 100), (20, 100), "V"),
    (8, "邮政业", ["G60"], E, R, (1000, 30000), (300, 2000), (20, 100), (20, 100), "V"),
    (9, "住宿业", ["H61"], E, R, (300, 10000), (100, 2000), (10, 100), (10, 100), "V"),
    (10, "餐饮业", ["H62"], E, R, (300, 10000), (100, 2000), (10, 100), (10, 100), "V"),
    (11, "信息传输业", ["I63", "I64"], E, R, (2000, 100000), (100, 1000), (10, 100), (10, 100),
     "V"),
    (12, "软件和信息技术服务业", ["I65"], E, R, (300, 10000), (100, 1000), (10, 50), (10, 50), "V"),
    (13, "房地产开发经营", ["K701"], R, A, (200000, 10000), (1000, 5000), (100, 2000), (100, 2000),
     "V"),
    (14, "物业管理", ["K702"], E, R, (1000, 5000), (300, 1000), (100, 500), (100, 500), "V"),
    (15, "租赁和商务服务业", ["L"], E, A, (300, 120000), (100, 8000), (10, 100), (10, 100), "V"),
    (16, "其他未列明行业", ["*"], E, "", (300, None), (100, None), (10, None), (10, None), "M"),
]


def _dec(value):
    return None if value is None else Decimal(value)


def seed(apps, schema_editor):
    SizeStandard = apps.get_model("parties", "SizeStandard")
    for (row_no, label, scope, metric_a, metric_b, ceiling, medium, small, micro,
         evidence) in ROWS:
        SizeStandard.objects.get_or_create(
            version=VERSION, row_no=row_no,
            defaults={
                "industry_label": label, "industry_scope": scope,
                "metric_a": metric_a, "metric_b": metric_b,
                "ceiling_a": _dec(ceiling[0]), "ceiling_b": _dec(ceiling[1]),
                "medium_min_a": _dec(medium[0]), "medium_min_b": _dec(medium[1]),
                "small_min_a": _dec(small[0]), "small_min_b": _dec(small[1]),
                "micro_below_a": _dec(micro[0]), "micro_below_b": _dec(micro[1]),
                "ceiling_combinator": "or", "band_combinator": "and", "micro_combinator": "or",
                "effective_from": EFFECTIVE_FROM, "effective_to": None,
                "evidence": evidence, "source_citation": CITATION,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("parties", "SizeStandard").objects.filter(version=VERSION).delete()


class Migration(migrations.Migration):
    dependencies = [("parties", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
