"""Demo borrowers: ~40 enterprises across industries and all four size classes, with their
controllers, spouses, shareholders, guarantors and related firms.

Deterministic (a seeded `random.Random`, draws never depend on what the database holds) and
idempotent (rows found by USCC, ID hash or edge are left as they are), so `make run` can call
it on every start. Everything goes through the services, so the demo trail looks real.
Codes are synthetic but well formed: they pass the GB 32100 and GB 11643 check characters.
"""

import datetime as dt
import random
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction

from apps.org.models import Branch
from apps.parties.models import Enterprise, Relationship, RelationshipKind
from apps.parties.money import YUAN_PER_WAN
from apps.parties.selectors import person_find, size_standard_rules
from apps.parties.services import enterprise_create, person_create, relationship_add
from apps.parties.size import Metric, SizeClass, select_rule
from apps.parties.validators import resident_id_check_char, uscc_check_char

DEMO_SEED = 20240701
DEMO_ENTERPRISE_COUNT = 40

# Real-format address codes (GB/T 2260): Hangzhou, Shenzhen, Nanjing, Shanghai, Suzhou, Fuzhou.
REGIONS = [("330106", "杭州"), ("440305", "深圳"), ("320106", "南京"), ("310115", "上海"),
           ("320505", "苏州"), ("350102", "福州")]

# (GB/T 4754 section, code, name ending): every line of the size standard but postal is used.
INDUSTRIES = [
    ("A", "01", "生态农业"), ("C", "13", "食品加工"), ("C", "33", "精密五金"),
    ("C", "39", "电子科技"), ("D", "44", "新能源"), ("E", "48", "建设工程"),
    ("F", "51", "商贸"), ("F", "52", "便利超市"), ("G", "54", "物流运输"), ("G", "59", "仓储"),
    ("H", "61", "酒店管理"), ("H", "62", "餐饮管理"), ("I", "64", "网络科技"),
    ("I", "65", "软件技术"), ("K", "701", "房地产开发"), ("K", "702", "物业服务"),
    ("L", "72", "商务咨询"), ("M", "75", "技术服务"), ("O", "80", "家政服务"),
]
BRANDS = ["恒信", "瑞丰", "华联", "金穗", "博远", "新纪元", "泰和", "众诚", "永利", "天禾",
          "安捷", "明德", "宏达", "锦程", "鑫源", "聚贤", "启航", "康宁", "卓越", "和润"]
SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "朱", "胡"]
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛",
         "明", "超", "秀英", "建华", "志强", "海燕", "国平", "丽华"]
SIZES = [SizeClass.MICRO, SizeClass.SMALL, SizeClass.MEDIUM, SizeClass.LARGE]
TAX_RATINGS = ["A", "B", "B", "M", "C", "A", "B", ""]

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organization_code(body8: str) -> str:
    """Eight digits plus their GB 11714 check character (positions 9-17 of a USCC)."""
    remainder = 11 - sum(int(d) * w for d, w in zip(body8, _ORG_WEIGHTS, strict=True)) % 11
    return body8 + {10: "X", 11: "0"}.get(remainder, str(remainder))


def demo_uscc(rng: random.Random, region: str) -> str:
    """A well-formed enterprise USCC: 9 (market regulator) 1 (enterprise), region, org code."""
    first17 = "91" + region + organization_code(f"{rng.randrange(10**8):08d}")
    return first17 + uscc_check_char(first17)


def demo_resident_id(rng: random.Random, region: str, *, female: bool) -> str:
    born = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(35 * 365))
    sequence = rng.randrange(0, 999, 2) + (0 if female else 1)  # odd sequence = male
    first17 = f"{region}{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + resident_id_check_char(first17)


def _band(rng: random.Random, rule, metric_suffix: str, size: str) -> Decimal:
    """A value for one metric of `rule` that lands in the `size` band (thresholds in 万元)."""
    small = getattr(rule, f"small_min_{metric_suffix}")
    medium = getattr(rule, f"medium_min_{metric_suffix}")
    ceiling = getattr(rule, f"ceiling_{metric_suffix}")
    frac = Decimal(rng.randrange(10, 90)) / 100
    if size == SizeClass.MICRO:
        return getattr(rule, f"micro_below_{metric_suffix}") * frac
    if size == SizeClass.SMALL:
        return small + (medium - small) * frac
    if size == SizeClass.MEDIUM:
        return medium + (ceiling - medium) * frac
    return ceiling * (1 + frac)


def _figures(rng: random.Random, rule, size: str) -> dict:
    """Employees, revenue and assets (yuan) putting the enterprise in `size` under `rule`."""
    values = {Metric.EMPLOYEES: Decimal(rng.randrange(3, 400)),
              Metric.REVENUE: Decimal(rng.randrange(50, 50000)),
              Metric.ASSETS: Decimal(rng.randrange(50, 50000))}
    if rule is not None:
        values[rule.metric_a] = _band(rng, rule, "a", size)
        if rule.metric_b:
            values[rule.metric_b] = _band(rng, rule, "b", size)
    # Floor head counts (a band's upper bound is exclusive) and turn 万元 into whole yuan.
    return {"employees": int(values[Metric.EMPLOYEES]),
            "annual_revenue": (values[Metric.REVENUE] * YUAN_PER_WAN).quantize(Decimal(1)),
            "total_assets": (values[Metric.ASSETS] * YUAN_PER_WAN).quantize(Decimal(1))}


def _person(rng: random.Random, region: str, *, female: bool, created: dict):
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    resident_id = demo_resident_id(rng, region, female=female)
    phone = f"13{rng.randrange(10**9):09d}"
    person = person_find(resident_id=resident_id)
    if person is None:
        person = person_create(actor=None, name=name, resident_id=resident_id, phone=phone)
        created["persons"] += 1
    return person


def _edge(created: dict, **edge) -> None:
    """relationship_add unless the same edge is already there (idempotent re-runs)."""
    lookup = {k: v for k, v in edge.items() if k not in ("stake_percent", "note")}
    if not Relationship.objects.filter(**lookup).exists():
        relationship_add(actor=None, **edge)
        created["relationships"] += 1


@transaction.atomic
def seed_demo_enterprises(branches: Iterable[Branch]) -> dict[str, int]:
    """Create the demo enterprises, spread round-robin over `branches` (Branch rows or a dict
    of them). Returns how many enterprises, persons and relationships were created."""
    if isinstance(branches, dict):
        branches = branches.values()
    branches = sorted(branches, key=lambda b: b.code)
    if not branches:
        raise ValueError("seed_demo_enterprises needs at least one branch")
    rng = random.Random(DEMO_SEED)
    rules = size_standard_rules()
    created = {"enterprises": 0, "persons": 0, "relationships": 0}
    enterprises: list[Enterprise] = []
    controllers = []

    for i in range(DEMO_ENTERPRISE_COUNT):
        section, code, ending = INDUSTRIES[i % len(INDUSTRIES)]
        region, city = REGIONS[i % len(REGIONS)]
        size = SIZES[(i // len(INDUSTRIES) + i) % len(SIZES)]
        rule = select_rule(rules, f"{section}{code}")[0] if rules else None
        uscc = demo_uscc(rng, region)
        name = f"{city}{BRANDS[i % len(BRANDS)]}{ending}有限公司"
        figures = _figures(rng, rule, size)
        lat = Decimal(rng.randrange(22_000_000, 33_000_000)) / 10**6
        lng = Decimal(rng.randrange(113_000_000, 122_000_000)) / 10**6
        registered = dt.date(2005, 1, 1) + dt.timedelta(days=rng.randrange(18 * 365))
        rating = rng.choice(TAX_RATINGS)

        enterprise = Enterprise.objects.filter(uscc=uscc).first()
        if enterprise is None:
            enterprise = enterprise_create(
                actor=None, name=name, uscc=uscc, industry=section, industry_code=code,
                branch=branches[i % len(branches)], registration_date=registered,
                registered_address=f"{city}市某区某路{i + 1}号",
                operating_address=f"{city}市某区某路{i + 1}号", operating_lat=lat,
                operating_lng=lng, tax_credit_rating=rating, **figures,
            )
            created["enterprises"] += 1
        enterprises.append(enterprise)

        # Every fifth firm belongs to the previous firm's owner: one-owner groups are the
        # usual SME group, and the exposure helper has to find them.
        if i % 5 == 4:
            controller = controllers[-1]
        else:
            controller = _person(rng, region, female=rng.random() < 0.3, created=created)
        controllers.append(controller)
        _edge(created, kind=RelationshipKind.ACTUAL_CONTROLLER, from_person=controller,
              to_enterprise=enterprise)
        _edge(created, kind=RelationshipKind.LEGAL_REPRESENTATIVE, from_person=controller,
              to_enterprise=enterprise)
        stake = Decimal(rng.randrange(51, 101))
        _edge(created, kind=RelationshipKind.SHAREHOLDER, from_person=controller,
              to_enterprise=enterprise, stake_percent=stake)
        # Owner (and spouse, below) guarantee the loan personally: standard SME practice.
        _edge(created, kind=RelationshipKind.GUARANTOR, from_person=controller,
              to_enterprise=enterprise)
        if i % 2 == 0 and i % 5 != 4:
            spouse = _person(rng, region, female=True, created=created)
            _edge(created, kind=RelationshipKind.SPOUSE_OF, from_person=spouse,
                  to_person=controller)
            _edge(created, kind=RelationshipKind.GUARANTOR, from_person=spouse,
                  to_enterprise=enterprise)
        if stake < 100 and i > 0 and i % 3 == 0:
            # The rest held by an earlier firm: an enterprise shareholder.
            _edge(created, kind=RelationshipKind.SHAREHOLDER, from_enterprise=enterprises[i - 1],
                  to_enterprise=enterprise, stake_percent=100 - stake)

    # Guarantee links between firms, including one mutual pair (互保) and a chain.
    for guarantor, borrower in [(3, 4), (4, 3), (10, 11), (11, 12), (12, 13), (20, 27),
                                (31, 8)]:
        _edge(created, kind=RelationshipKind.GUARANTOR, from_enterprise=enterprises[guarantor],
              to_enterprise=enterprises[borrower])
    for a, b in [(6, 7), (15, 22), (33, 34)]:
        _edge(created, kind=RelationshipKind.RELATED_ENTERPRISE, from_enterprise=enterprises[a],
              to_enterprise=enterprises[b])
    return created
