"""Issue 17: the template validator speaks the officer's language. A bad template posted from
the Chinese UI gets its problems in Chinese, each still with its path (data, not words)."""

import gettext
import html
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.urls import reverse
from django.utils.translation import trans_real

from apps.investigations import services
from apps.investigations.tests.test_template_workbench import _draft, officers, published  # noqa: F401

pytestmark = pytest.mark.django_db

PENDING = Path(settings.BASE_DIR) / "locale" / "pending" / "wbench.po"


def _read_po(path: Path) -> dict[str, str]:
    """msgid → msgstr of a plain .po file (no plurals, no contexts)."""
    catalog, key, current = {}, None, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("msgid "):
            key, current = "msgid", {"msgid": yaml.safe_load(line[6:]), "msgstr": ""}
        elif line.startswith("msgstr ") and current is not None:
            key = "msgstr"
            current["msgstr"] = yaml.safe_load(line[7:])
        elif line.startswith('"') and current is not None:
            current[key] += yaml.safe_load(line)
        elif not line.strip() and current is not None:
            if current["msgid"] and current["msgstr"]:
                catalog[current["msgid"]] = current["msgstr"]
            current = None
    return catalog


class _Pending(gettext.NullTranslations):
    def __init__(self, catalog):
        super().__init__()
        self._catalog, self.plural = catalog, (lambda n: 0)


@pytest.fixture
def chinese_pending():
    """This branch's Chinese (locale/pending/wbench.po) in the zh-hans catalogue, as it will be
    once the lead merges it; dropped afterwards."""
    trans_real.translation("zh-hans").merge(_Pending(_read_po(PENDING)))
    yield
    trans_real._translations.clear()


def _bad_document(draft) -> str:
    data = services.template_editable_document(draft)
    data["sections"][0]["items"][3]["red_flag_rules"][0]["when"] = "LEVERAGE > NOPE"
    data["sections"][0]["items"][3]["red_flag_rules"][0]["severity"] = "R9"
    return yaml.safe_dump(data, allow_unicode=True)


def test_a_bad_template_from_the_chinese_ui_gets_chinese_messages_with_their_paths(
        client, published, officers, chinese_pending):  # noqa: F811
    draft = _draft(published, officers[0])
    client.force_login(officers[0])
    url = reverse("investigations:template", args=[draft.pk])

    chinese = client.post(url, {"document": _bad_document(draft)},
                          HTTP_ACCEPT_LANGUAGE="zh-hans")
    english = client.post(url, {"document": _bad_document(draft)})

    assert chinese.status_code == english.status_code == 400
    body = html.unescape(chinese.content.decode())
    assert "items.LEVERAGE.red_flag_rules[0].when: 未知的项目代码 'NOPE'（第 12 个字符）" in body
    assert "items.LEVERAGE.red_flag_rules[0].severity: 必须是 R1、R2 或 R3" in body
    body = html.unescape(english.content.decode())
    assert "items.LEVERAGE.red_flag_rules[0].when: unknown item code 'NOPE' (character 12)" \
        in body
    assert "items.LEVERAGE.red_flag_rules[0].severity: must be R1, R2 or R3" in body


def test_the_live_check_answers_in_chinese_too(client, published, officers,  # noqa: F811
                                               chinese_pending):
    draft = _draft(published, officers[0])
    client.force_login(officers[0])
    data = services.template_editable_document(draft)
    data["cross_checks"][0]["expression"] = "SALES > 'x'"

    checked = client.post(reverse("investigations:template-check", args=[draft.pk]),
                          {"document": yaml.safe_dump(data, allow_unicode=True)},
                          HTTP_ACCEPT_LANGUAGE="zh-hans")

    body = html.unescape(checked.content.decode())
    assert "cross_checks.SALES_X.expression" in body
    assert "无法比较数字与文本的大小" in body
