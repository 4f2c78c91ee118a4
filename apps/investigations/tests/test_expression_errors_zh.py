"""Issue 17: the rule interpreter's evaluation errors (the data a compiled rule met does not
fit) speak the officer's language, with the offending value kept as a parameter."""

import pytest
from django.utils import translation

from apps.investigations.expressions import RuleEvaluationError
from apps.investigations.tests.test_expressions import value
from apps.investigations.tests.test_template_messages_zh import PENDING, _Pending, _read_po

pytestmark = pytest.mark.django_db

POLICY = {"gone": None}  # a key the rule may name, with no value in force


@pytest.fixture
def chinese_pending():
    """This branch's Chinese (locale/pending/wb.po) merged into zh-hans, as the lead will."""
    from django.utils.translation import trans_real

    trans_real.translation("zh-hans").merge(_Pending(_read_po(PENDING.with_name("wb.po"))))
    yield
    trans_real._translations.clear()


@pytest.mark.parametrize(
    ("text", "answers", "english", "chinese"),
    [
        (
            "N > 5",
            {"N": "seven"},
            "comparison needs a number, got 'seven'",
            "比较 需要数字，实际为 'seven'",
        ),
        (
            "abs(N)",
            {"N": "seven"},
            "abs() needs a number, got 'seven'",
            "abs() 需要数字，实际为 'seven'",
        ),
        ("N + 1", {"N": 0.1}, "N is a float", "N 是浮点数"),
        ("-N", {"N": "x"}, "sign needs a number, got 'x'", "正负号 需要数字，实际为 'x'"),
        ('policy("gone") > 1', {}, "policy value 'gone' is not in force", "政策参数 'gone' 未生效"),
    ],
)
def test_evaluation_errors_in_both_languages(chinese_pending, text, answers, english, chinese):
    with translation.override("en"), pytest.raises(RuleEvaluationError) as in_english:
        value(text, answers, policy=POLICY)
    assert english in str(in_english.value)
    with translation.override("zh-hans"), pytest.raises(RuleEvaluationError) as in_chinese:
        value(text, answers, policy=POLICY)
    assert chinese in str(in_chinese.value)
    assert "needs" not in str(in_chinese.value) and "not in force" not in str(in_chinese.value)


def test_the_value_is_a_parameter_not_part_of_the_message(chinese_pending):
    """The same message with another value: one msgid, the value filled in."""
    with translation.override("zh-hans"), pytest.raises(RuleEvaluationError) as error:
        value("N > 5", {"N": "一百"})
    assert "比较 需要数字，实际为 '一百'" in str(error.value)
