"""Checking a checklist template, as data, before anything is written or published.

One validator serves the three ways a template arrives: an import file, the built-in seed, and
a draft edited in the database (validated through its export). It returns every problem at
once, each with a path an editor can show next to the field ("items.D7.red_flag_rules[0].when")
and, for rules, the character position in the expression.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from apps.investigations import expressions as ex
from apps.investigations.evidence import FIGURE_KEYS, evidence_placeholder
from apps.investigations.models import AnswerType, Severity

FORMAT = "credence.checklist_template/1"

# The expression type an answer of each type has (§3.2 answer types → rule values).
ANSWER_VALUE_TYPE = {
    AnswerType.YES_NO: ex.BOOL, AnswerType.NUMBER: ex.NUM, AnswerType.MONEY: ex.NUM,
    AnswerType.PERCENT: ex.NUM, AnswerType.DATE: ex.DATE, AnswerType.TEXT: ex.STR,
    AnswerType.SINGLE_CHOICE: ex.STR, AnswerType.MULTI_CHOICE: ex.LIST,
}
COLUMN_TYPES = {"number", "money", "percent", "text", "date", "yes_no"}
THRESHOLD_OPERATORS = {">", ">=", "<", "<="}


@dataclass(frozen=True)
class TemplateIssue:
    """One problem: where (a dotted path, data the editor shows as it is), what (in the
    language of the request that asked), and for rules the offset in the text."""

    path: str
    message: str
    position: int | None = None

    @property
    def problem(self) -> str:
        """The message, with the character it points at in a rule."""
        if self.position is None:
            return self.message
        return _("%(message)s (character %(position)s)") % {"message": self.message,
                                                            "position": self.position + 1}

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


def _bilingual(value, path: str, issues: list, *, required: bool = True) -> None:
    if not isinstance(value, dict) or set(value) - {"en", "zh"}:
        issues.append(TemplateIssue(path, _("needs an object with 'en' and 'zh' texts")))
        return
    for lang in ("en", "zh"):
        text = value.get(lang, "")
        if not isinstance(text, str) or (required and not text.strip()):
            issues.append(TemplateIssue(f"{path}.{lang}", _("text is missing")))


def item_spec(item: dict) -> ex.ItemSpec:
    answer_type = item.get("answer_type")
    if answer_type == AnswerType.TABLE:
        spec = item.get("columns") or {}
        columns = frozenset(c.get("code") for c in spec.get("columns", []) if isinstance(c, dict))
        rows = frozenset(r.get("code") for r in spec.get("rows", []) if isinstance(r, dict))
        return ex.ItemSpec(type=ex.LIST, columns=columns, rows=rows, is_table=True)
    return ex.ItemSpec(type=ANSWER_VALUE_TYPE.get(answer_type, ex.ANY))


def _compile(text, path: str, issues: list, *, specs, policy_keys, expect=None):
    try:
        return ex.compile_rule(text, items=specs, policy_keys=policy_keys, expect=expect)
    except ex.RuleError as exc:
        issues.append(TemplateIssue(path, exc.message, exc.position))
        return None


def validate_template_data(data, *, policy_keys: set[str], product_codes: set[str] | None = None
                           ) -> list[TemplateIssue]:
    """Every problem in a template document; an empty list means it may be imported/published.

    Rules checked: item codes are rule names and unique (§8.1 Item); each answer type has what
    it needs (choices, columns, minimum length, a derived expression — derived values are never
    typed by hand, §3.2 CALC); every expression compiles against these items and known policy
    keys; red flags carry a severity R1–R3 and a bilingual message; cross-check thresholds name
    a policy key or a decimal; derived values do not depend on themselves.
    """
    issues: list[TemplateIssue] = []
    if not isinstance(data, dict):
        return [TemplateIssue("$", _("a template is an object"))]
    if data.get("format", FORMAT) != FORMAT:
        issues.append(TemplateIssue("format", _("unsupported format; expected %(format)s")
                                    % {"format": FORMAT}))
    code = data.get("code")
    if not isinstance(code, str) or not code or len(code) > 60 \
            or not all(ch.isalnum() or ch in "-_" for ch in code):
        issues.append(TemplateIssue("code", _("needs a slug (letters, digits, - and _)")))
    version = data.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)
                                or version < 1):
        issues.append(TemplateIssue("version", _("needs a whole number from 1")))
    product = data.get("product")
    if product is not None and product_codes is not None and product not in product_codes:
        issues.append(TemplateIssue("product", _("unknown product %(code)s")
                                    % {"code": repr(product)}))
    _bilingual(data.get("name"), "name", issues)
    if not isinstance(data.get("default", False), bool):
        issues.append(TemplateIssue("default", _("needs true or false")))
    if data.get("default") and product is not None:
        issues.append(TemplateIssue("default", _("a product's own template is not the default")))

    # Policy values shipped in the file count as known keys for its rules.
    declared_keys = set()
    for index, row in enumerate(data.get("policies") or []):
        path = f"policies[{index}]"
        if not isinstance(row, dict) or not isinstance(row.get("key"), str) or not row["key"]:
            issues.append(TemplateIssue(path, _("needs a key")))
            continue
        declared_keys.add(row["key"])
        try:
            Decimal(str(row.get("value")))
        except InvalidOperation:
            issues.append(TemplateIssue(f"{path}.value", _("needs a decimal number as text")))
        if row.get("evidence", "G") not in ("V", "M", "G"):
            issues.append(TemplateIssue(f"{path}.evidence", _("must be V, M or G")))
    known_keys = set(policy_keys) | declared_keys

    sections = data.get("sections")
    if not isinstance(sections, list) or not sections:
        issues.append(TemplateIssue("sections", _("a template needs at least one section")))
        sections = []
    items: dict[str, dict] = {}
    section_codes: set[str] = set()
    for s_index, section in enumerate(sections):
        s_path = f"sections[{s_index}]"
        if not isinstance(section, dict):
            issues.append(TemplateIssue(s_path, _("a section is an object")))
            continue
        s_code = section.get("code")
        if not isinstance(s_code, str) or not s_code or s_code in section_codes:
            issues.append(TemplateIssue(f"{s_path}.code", _("needs a unique code")))
        section_codes.add(s_code)
        _bilingual(section.get("title"), f"{s_path}.title", issues)
        for i_index, item in enumerate(section.get("items") or []):
            i_path = f"{s_path}.items[{i_index}]"
            if not isinstance(item, dict):
                issues.append(TemplateIssue(i_path, _("an item is an object")))
                continue
            i_code = item.get("code")
            if not ex.is_valid_code(i_code):
                issues.append(TemplateIssue(f"{i_path}.code", _(
                    "%(code)s cannot be used in rules: letters, digits and _, not first a "
                    "digit") % {"code": repr(i_code)}))
                continue
            if i_code in items:
                issues.append(TemplateIssue(f"items.{i_code}", _("item code used twice")))
                continue
            items[i_code] = item
    specs = {code: item_spec(item) for code, item in items.items()}

    derived_refs: dict[str, frozenset[str]] = {}
    for i_code, item in items.items():
        path = f"items.{i_code}"
        _check_item_shape(item, path, issues)
        if item.get("answer_type") == AnswerType.DERIVED and item.get("expression"):
            rule = _compile(item["expression"], f"{path}.expression", issues, specs=specs,
                            policy_keys=known_keys)
            if rule is not None:
                derived_refs[i_code] = rule.references
        for r_index, rule in enumerate(item.get("validation_rules") or []):
            r_path = f"{path}.validation_rules[{r_index}]"
            if not isinstance(rule, dict) or not rule.get("code"):
                issues.append(TemplateIssue(r_path, _("needs a code, an expression and a message")))
                continue
            _compile(rule.get("expression"), f"{r_path}.expression", issues, specs=specs,
                     policy_keys=known_keys, expect=ex.BOOL)
            _bilingual(rule.get("message"), f"{r_path}.message", issues)
        for r_index, rule in enumerate(item.get("red_flag_rules") or []):
            r_path = f"{path}.red_flag_rules[{r_index}]"
            if not isinstance(rule, dict) or not rule.get("code"):
                issues.append(TemplateIssue(r_path, _("needs a code, a condition, a severity "
                                              "and a message")))
                continue
            if rule.get("severity") not in Severity.values:
                issues.append(TemplateIssue(f"{r_path}.severity", _("must be R1, R2 or R3")))
            _compile(rule.get("when"), f"{r_path}.when", issues, specs=specs,
                     policy_keys=known_keys, expect=ex.BOOL)
            _bilingual(rule.get("message"), f"{r_path}.message", issues)
    issues.extend(_derived_cycles(derived_refs, items))

    check_codes: set[str] = set()
    for c_index, check in enumerate(data.get("cross_checks") or []):
        path = f"cross_checks[{c_index}]"
        if not isinstance(check, dict) or not check.get("code") or check["code"] in check_codes:
            issues.append(TemplateIssue(f"{path}.code", _("needs a unique code")))
            continue
        check_codes.add(check["code"])
        path = f"cross_checks.{check['code']}"
        _bilingual(check.get("title"), f"{path}.title", issues)
        rule = _compile(check.get("expression"), f"{path}.expression", issues, specs=specs,
                        policy_keys=known_keys)
        if rule is not None and rule.type not in (ex.NUM, ex.ANY):
            issues.append(TemplateIssue(f"{path}.expression", _(
                "must give a number to compare, gives %(type)s") % {
                    "type": ex.type_label(rule.type)}))
        _check_thresholds(check.get("thresholds"), f"{path}.thresholds", issues, known_keys)
        _bilingual(check.get("explanation"), f"{path}.explanation", issues)
        placeholders = {"metric", "threshold", *items,
                        *(evidence_placeholder(key) for key in FIGURE_KEYS)}
        for lang in ("en", "zh"):
            text = (check.get("explanation") or {}).get(lang) or ""
            try:
                names = {name for _text, name, _spec, _conversion
                         in string.Formatter().parse(text) if name}
            except ValueError as exc:
                issues.append(TemplateIssue(f"{path}.explanation.{lang}", str(exc)))
                continue
            for name in sorted(names - placeholders):
                issues.append(TemplateIssue(f"{path}.explanation.{lang}",
                                            _("unknown placeholder %(placeholder)s")
                                            % {"placeholder": f"{{{name}}}"}))
    return issues


def _check_item_shape(item: dict, path: str, issues: list) -> None:
    answer_type = item.get("answer_type")
    if answer_type not in AnswerType.values:
        issues.append(TemplateIssue(f"{path}.answer_type", _("unknown answer type %(type)s")
                                    % {"type": repr(answer_type)}))
        return
    _bilingual(item.get("label"), f"{path}.label", issues)
    if item.get("help") is not None:
        _bilingual(item["help"], f"{path}.help", issues, required=False)
    if answer_type == AnswerType.DERIVED:
        if not item.get("expression"):
            issues.append(TemplateIssue(f"{path}.expression", _(
                "a derived item needs an expression: it is computed, never typed by hand")))
    elif item.get("expression"):
        issues.append(TemplateIssue(f"{path}.expression",
                                    _("only derived items have an expression")))
    if answer_type == AnswerType.TEXT:
        min_length = item.get("min_length")
        if min_length is not None and (not isinstance(min_length, int) or min_length < 0):
            issues.append(TemplateIssue(f"{path}.min_length", _("needs a whole number")))
    if answer_type in (AnswerType.SINGLE_CHOICE, AnswerType.MULTI_CHOICE):
        choices = item.get("choices")
        codes = [c.get("code") for c in choices or [] if isinstance(c, dict)]
        if not choices or len(codes) != len(choices) or len(set(codes)) != len(codes) \
                or not all(isinstance(c, str) and c for c in codes):
            issues.append(TemplateIssue(f"{path}.choices",
                                        _("needs a list of choices with unique codes")))
        for index, choice in enumerate(choices or []):
            if isinstance(choice, dict):
                _bilingual({k: choice.get(k, "") for k in ("en", "zh")},
                           f"{path}.choices[{index}]", issues)
    if answer_type == AnswerType.TABLE:
        spec = item.get("columns")
        columns = spec.get("columns") if isinstance(spec, dict) else None
        if not columns:
            issues.append(TemplateIssue(f"{path}.columns", _("a table needs columns")))
        seen = set()
        for index, column in enumerate(columns or []):
            c_path = f"{path}.columns[{index}]"
            code = column.get("code") if isinstance(column, dict) else None
            if not ex.is_valid_code(code) or code in seen or code == "row":
                issues.append(TemplateIssue(c_path, _("needs a unique code usable in rules")))
                continue
            seen.add(code)
            if column.get("type") not in COLUMN_TYPES:
                issues.append(TemplateIssue(f"{c_path}.type", _("must be one of %(choices)s")
                                            % {"choices": ", ".join(sorted(COLUMN_TYPES))}))
        rows = spec.get("rows", []) if isinstance(spec, dict) else []
        row_codes = [r.get("code") for r in rows if isinstance(r, dict)]
        if len(row_codes) != len(rows) or len(set(row_codes)) != len(row_codes) \
                or not all(ex.is_valid_code(c) for c in row_codes):
            issues.append(TemplateIssue(f"{path}.columns.rows",
                                        _("rows need unique codes usable in rules")))
    evidence = item.get("evidence") or {}
    if not isinstance(evidence, dict) or set(evidence) - {"document_types", "photo_count"}:
        issues.append(TemplateIssue(f"{path}.evidence",
                                    _("allowed keys: document_types, photo_count")))
    else:
        if not isinstance(evidence.get("document_types", []), list):
            issues.append(TemplateIssue(f"{path}.evidence.document_types", _("needs a list")))
        count = evidence.get("photo_count", 0)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            issues.append(TemplateIssue(f"{path}.evidence.photo_count", _("needs a whole number")))


def _check_thresholds(thresholds, path: str, issues: list, known_keys: set[str]) -> None:
    if not isinstance(thresholds, list) or not thresholds:
        issues.append(TemplateIssue(path, _("needs at least one threshold")))
        return
    for index, threshold in enumerate(thresholds):
        t_path = f"{path}[{index}]"
        if not isinstance(threshold, dict):
            issues.append(TemplateIssue(t_path, _("a threshold is an object")))
            continue
        if threshold.get("severity") not in Severity.values:
            issues.append(TemplateIssue(f"{t_path}.severity", _("must be R1, R2 or R3")))
        if threshold.get("operator", ">") not in THRESHOLD_OPERATORS:
            issues.append(TemplateIssue(f"{t_path}.operator", _("must be >, >=, < or <=")))
        has_policy, has_value = "policy" in threshold, "value" in threshold
        if has_policy == has_value:
            issues.append(TemplateIssue(t_path, _("name a policy key or give a value, not both")))
        elif has_policy and threshold["policy"] not in known_keys:
            issues.append(TemplateIssue(f"{t_path}.policy", _("unknown policy key %(key)s")
                                        % {"key": repr(threshold["policy"])}))
        elif has_value:
            try:
                Decimal(str(threshold["value"]))
            except InvalidOperation:
                issues.append(TemplateIssue(f"{t_path}.value", _("needs a decimal number")))


def _derived_cycles(refs: dict[str, frozenset[str]], items: dict) -> list[TemplateIssue]:
    """A derived value that (through others) depends on itself can never be computed."""
    issues, state = [], {}

    def visit(code: str, trail: list[str]) -> None:
        if state.get(code) == "done" or code not in refs:
            return
        if state.get(code) == "open":
            cycle = trail[trail.index(code):] + [code]
            issues.append(TemplateIssue(f"items.{code}.expression",
                                        _("derived values depend on each other: %(cycle)s")
                                        % {"cycle": " → ".join(cycle)}))
            return
        state[code] = "open"
        for ref in sorted(refs[code]):
            visit(ref, [*trail, code])
        state[code] = "done"

    for code in sorted(refs):
        visit(code, [])
    return issues
