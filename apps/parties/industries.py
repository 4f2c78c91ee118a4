"""Industry sections of GB/T 4754-2017 《国民经济行业分类》 (20 sections, letters A-T).

The section letter is the coarse industry every enterprise has. Several lines of the SME size
standard (§5.5) need a finer code (wholesale 51 vs retail 52, accommodation 61 vs catering 62,
real-estate development 701 vs property management 702), so an enterprise may also carry its
division or group code; `DIVISIONS` says which two-digit divisions belong to which section.
"""

import re

from django.db import models
from django.utils.translation import gettext_lazy as _


class Industry(models.TextChoices):
    A = "A", _("A Agriculture, forestry, animal husbandry and fishery 农、林、牧、渔业")
    B = "B", _("B Mining 采矿业")
    C = "C", _("C Manufacturing 制造业")
    D = "D", _("D Electricity, heat, gas and water supply 电力、热力、燃气及水生产和供应业")
    E = "E", _("E Construction 建筑业")
    F = "F", _("F Wholesale and retail 批发和零售业")
    G = "G", _("G Transport, storage and postal services 交通运输、仓储和邮政业")
    H = "H", _("H Accommodation and catering 住宿和餐饮业")
    I = "I", _("I Information transmission, software and IT services "  # noqa: E741
               "信息传输、软件和信息技术服务业")
    J = "J", _("J Finance 金融业")
    K = "K", _("K Real estate 房地产业")
    L = "L", _("L Leasing and business services 租赁和商务服务业")
    M = "M", _("M Scientific research and technical services 科学研究和技术服务业")
    N = "N", _("N Water, environment and public facilities 水利、环境和公共设施管理业")
    O = "O", _("O Resident, repair and other services 居民服务、修理和其他服务业")  # noqa: E741
    P = "P", _("P Education 教育")
    Q = "Q", _("Q Health and social work 卫生和社会工作")
    R = "R", _("R Culture, sports and entertainment 文化、体育和娱乐业")
    S = "S", _("S Public administration, social security and social organisations "
               "公共管理、社会保障和社会组织")
    T = "T", _("T International organisations 国际组织")


# Two-digit divisions (大类) per section, GB/T 4754-2017 [M: check against the NBS text].
DIVISIONS: dict[str, range] = {
    "A": range(1, 6), "B": range(6, 13), "C": range(13, 44), "D": range(44, 47),
    "E": range(47, 51), "F": range(51, 53), "G": range(53, 61), "H": range(61, 63),
    "I": range(63, 66), "J": range(66, 70), "K": range(70, 71), "L": range(71, 73),
    "M": range(73, 76), "N": range(76, 80), "O": range(80, 83), "P": range(83, 84),
    "Q": range(84, 86), "R": range(86, 91), "S": range(91, 97), "T": range(97, 98),
}

# Division (2 digits), group (3) or class (4): a code always starts with its division.
_CODE_SHAPE = re.compile(r"^\d{2,4}$")


def industry_code_problem(section: str, code: str) -> str | None:
    """Why `code` is not a GB/T 4754 division/group/class code inside `section`, or None."""
    if not code:
        return None
    if not _CODE_SHAPE.match(code):
        return str(_("An industry code has 2 to 4 digits (division, group or class)."))
    if section in DIVISIONS and int(code[:2]) not in DIVISIONS[section]:
        return str(_("Industry code %(code)s is not in section %(section)s.")
                   % {"code": code, "section": section})
    return None


def industry_key(section: str, code: str = "") -> str:
    """"F52", "K701", or just "C": what size-standard scopes are matched against."""
    return f"{section}{code or ''}"
