#!/usr/bin/env bash
# Regenerate the zh-hans catalogue from the code, fill new strings from locale/pending/*.po,
# and compile it. Guesses ("fuzzy" matches msgmerge makes for new strings) are dropped, never
# shipped: a string is either translated by a person or shown in English.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
po=locale/zh_Hans/LC_MESSAGES/django.po
$PY manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var --ignore='bench/*' >/dev/null
msgattrib --clear-fuzzy --empty --no-obsolete -o "$po" "$po"
shopt -s nullglob
pending=(locale/pending/*.po)
if [ ${#pending[@]} -gt 0 ]; then
  combined=$(mktemp --suffix=.po)
  msgcat --use-first -o "$combined" "${pending[@]}"
  msgmerge -q --no-fuzzy-matching -C "$combined" -o "$po.new" "$po" "$po"
  mv "$po.new" "$po"
  rm -f "$combined"
fi
$PY manage.py compilemessages --ignore=.venv >/dev/null
msgfmt --statistics -o /dev/null "$po"
