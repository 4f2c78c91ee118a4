"""The zh-hans catalogue stays complete and compiled, without needing gettext tools to check it.

Three ways it goes stale, one test each: a new string in the code that nobody ran makemessages
for; a msgid left untranslated or fuzzy; a .po edited without recompiling the .mo (which is what
Django actually reads, and what a machine without gettext cannot rebuild).
"""

import ast
import gettext
import io
import re
import tokenize
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation.template import templatize

LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_PATH = LOCALE_DIR / "django.po"
MO_PATH = LOCALE_DIR / "django.mo"

FIX_HINT = (
    "run `.venv/bin/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var`, "
    "translate every entry in locale/zh_Hans/LC_MESSAGES/django.po (no fuzzy flags), then "
    "`.venv/bin/python manage.py compilemessages --ignore=.venv` and commit both files"
)

# What makemessages searches: the whole project but hidden folders and the ignored ones.
SKIPPED_DIRS = {"var", "node_modules", "__pycache__", "htmlcov"}
TEMPLATE_SUFFIXES = {".html", ".txt"}

# Django's xgettext keywords (makemessages) plus xgettext's Python defaults:
# name -> (index of msgctxt or None, index of msgid).
KEYWORDS = {
    "_": (None, 0), "gettext": (None, 0), "gettext_lazy": (None, 0), "gettext_noop": (None, 0),
    "ngettext": (None, 0), "ngettext_lazy": (None, 0),
    "pgettext": (0, 1), "pgettext_lazy": (0, 1), "npgettext": (0, 1), "npgettext_lazy": (0, 1),
}


# --- .po parsing (just enough of the format for what makemessages writes) --------------------

def _unquote(fragment: str) -> str:
    return ast.literal_eval(fragment)  # a PO string is a C string; these escapes match Python's


def parse_po(path: Path) -> list[dict]:
    """Entries as dicts: msgctxt, msgid, msgid_plural, msgstr {index: text}, flags, obsolete."""
    entries = []

    def new_entry():
        return {"flags": set(), "msgstr": {}, "obsolete": False}

    entry, field = new_entry(), None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line, obsolete = raw.strip(), raw.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            continue
        # A comment or a new msgctxt/msgid after a msgstr starts the next entry.
        starts_entry = line.startswith("#") or line.split(" ", 1)[0] in ("msgctxt", "msgid")
        if starts_entry and entry["msgstr"]:
            entries.append(entry)
            entry, field = new_entry(), None
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        entry["obsolete"] = entry["obsolete"] or obsolete
        keyword, _, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid", "msgid_plural"):
            entry[keyword], field = _unquote(rest), (keyword, None)
        elif match := re.fullmatch(r"msgstr(?:\[(\d+)\])?", keyword):
            index = int(match.group(1) or 0)
            entry["msgstr"][index], field = _unquote(rest), ("msgstr", index)
        elif line.startswith('"') and field is not None:
            name, index = field
            if name == "msgstr":
                entry["msgstr"][index] += _unquote(line)
            else:
                entry[name] += _unquote(line)
        else:
            raise AssertionError(f"{path}: cannot parse line {raw!r}")
    if entry["msgstr"]:
        entries.append(entry)
    return entries


def _live_entries() -> list[dict]:
    return [e for e in parse_po(PO_PATH) if not e["obsolete"] and e["msgid"] != ""]


def _key(entry: dict) -> tuple[str | None, str]:
    return entry.get("msgctxt"), entry["msgid"]


# --- extraction of the msgids the code uses, as makemessages would find them -----------------

def _calls_in_python(source: str) -> list[tuple[str | None, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name not in KEYWORDS:
            continue
        ctx_index, id_index = KEYWORDS[name]
        args = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None
                for a in node.args]
        if len(args) <= id_index or args[id_index] is None:
            continue  # not a literal: xgettext skips it too
        found.append((args[ctx_index] if ctx_index is not None else None, args[id_index]))
    return found


def _calls_in_template(source: str) -> list[tuple[str | None, str]]:
    # templatize() is what makemessages feeds xgettext: blanked text around gettext() calls.
    # Leading blanks are dropped so that tokenize does not read them as indentation.
    code = re.sub(r"(?m)^[ \t]+", "", templatize(source))
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(code).readline)
              if t.type in (tokenize.NAME, tokenize.OP, tokenize.STRING)]
    found = []
    for i, token in enumerate(tokens[:-2]):
        if token.type != tokenize.NAME or token.string not in KEYWORDS:
            continue
        if tokens[i + 1].string != "(":
            continue
        args = []
        for arg in tokens[i + 2:]:
            if arg.type == tokenize.STRING:
                args.append(ast.literal_eval(arg.string))
            elif arg.string != ",":
                break
        ctx_index, id_index = KEYWORDS[token.string]
        if len(args) > id_index:
            found.append((args[ctx_index] if ctx_index is not None else None, args[id_index]))
    return found


def _source_files():
    base = Path(settings.BASE_DIR)
    for path in sorted(base.rglob("*")):
        parts = path.relative_to(base).parts
        if any(p.startswith(".") or p in SKIPPED_DIRS or p.endswith(".egg-info")
               for p in parts[:-1]):
            continue
        if path.is_file() and (path.suffix == ".py" or path.suffix in TEMPLATE_SUFFIXES):
            yield path


def source_msgids() -> dict[tuple[str | None, str], str]:
    """(msgctxt, msgid) -> first file using it."""
    base = Path(settings.BASE_DIR)
    found = {}
    for path in _source_files():
        source = path.read_text(encoding="utf-8")
        calls = (_calls_in_python(source) if path.suffix == ".py"
                 else _calls_in_template(source))
        for key in calls:
            found.setdefault(key, str(path.relative_to(base)))
    return found


# --- the tests -------------------------------------------------------------------------------

def test_catalogue_exists():
    assert PO_PATH.is_file() and MO_PATH.is_file(), FIX_HINT


def test_every_string_in_the_code_is_in_the_catalogue():
    in_catalogue = {_key(e) for e in _live_entries()}
    missing = {key: where for key, where in source_msgids().items() if key not in in_catalogue}
    assert not missing, (
        "strings not in the zh_Hans catalogue:\n"
        + "\n".join(f"  {where}: {msgid!r}" + (f" (context {ctx!r})" if ctx else "")
                    for (ctx, msgid), where in sorted(missing.items(), key=lambda i: i[1]))
        + f"\n{FIX_HINT}")


def test_every_entry_is_translated_and_not_fuzzy():
    entries = parse_po(PO_PATH)
    header = next(e for e in entries if e["msgid"] == "")
    assert "fuzzy" not in header["flags"], "the .po header is fuzzy: msgfmt would ignore it"
    bad = []
    for entry in _live_entries():
        if "fuzzy" in entry["flags"]:
            bad.append(f"  fuzzy: {entry['msgid']!r}")
        elif not entry["msgstr"] or not all(entry["msgstr"].values()):
            bad.append(f"  untranslated: {entry['msgid']!r}")
    assert not bad, "zh_Hans catalogue incomplete:\n" + "\n".join(bad) + f"\n{FIX_HINT}"


def test_compiled_catalogue_matches_the_po():
    # Content, not timestamps: a git checkout gives both files the checkout time.
    expected = {}
    for entry in _live_entries():
        if "fuzzy" in entry["flags"] or not all(entry["msgstr"].values()):
            continue  # msgfmt leaves these out; the test above reports them
        msgid = entry["msgid"]
        if entry.get("msgctxt") is not None:
            msgid = f"{entry['msgctxt']}\x04{msgid}"
        if "msgid_plural" in entry:
            expected.update({(msgid, i): text for i, text in entry["msgstr"].items()})
        else:
            expected[msgid] = entry["msgstr"][0]
    with MO_PATH.open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog  # no public accessor
    compiled = {k: v for k, v in compiled.items() if k != ""}  # "" is the header
    stale = sorted(set(expected.items()) ^ set(compiled.items()), key=str)
    assert not stale, (
        "django.mo differs from django.po (recompile):\n"
        + "\n".join(f"  {item!r}" for item in stale[:20]) + f"\n{FIX_HINT}")


@pytest.mark.parametrize("source, expected", [
    ('x = _("One")\ny = pgettext_lazy("month", "May")\nz = ngettext("a", "b", 2)',
     [(None, "One"), ("month", "May"), (None, "a")]),
    ("label = gettext_lazy(name)", []),
])
def test_python_extraction(source, expected):
    assert _calls_in_python(source) == expected


def test_template_extraction():
    source = ("{% load i18n %}\n  <p>{% translate \"It's\" %}</p>\n"
              "    {% blocktranslate trimmed with name=user.name %}\n  Hi,\n {{ name }}\n"
              "{% endblocktranslate %}{% translate 'May' context 'month' %}")
    assert _calls_in_template(source) == [(None, "It's"), (None, "Hi, %(name)s"),
                                           ("month", "May")]
