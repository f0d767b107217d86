#!/usr/bin/env python3
"""Writes core/data/countries.tsv: every region Roster knows (core/src/model/phone.rs) with its
name in each of Roster's languages, from the Unicode CLDR as the `babel` package ships it.

Run it again when a language or a region is added:
    python3 -m venv /tmp/cldr && /tmp/cldr/bin/pip install babel
    /tmp/cldr/bin/python scripts/country-names.py
"""
import pathlib
import re

from babel import Locale

ROOT = pathlib.Path(__file__).resolve().parent.parent
LANGUAGES = ["en", "nl", "sv"]

source = (ROOT / "core/src/model/phone.rs").read_text()
block = source.split("const REGIONS: &[&str] = &[", 1)[1].split("];", 1)[0]
regions = re.findall(r'"([A-Z]{2})"', block)
locales = [Locale.parse(lang) for lang in LANGUAGES]

lines = ["iso\t" + "\t".join(LANGUAGES)]
for iso in regions:
    names = [locale.territories.get(iso) for locale in locales]
    missing = [lang for lang, name in zip(LANGUAGES, names) if not name]
    if missing:
        raise SystemExit(f"{iso}: no name in {missing}")
    lines.append(iso + "\t" + "\t".join(names))
(ROOT / "core/data/countries.tsv").write_text("\n".join(lines) + "\n")
print(f"{len(regions)} regions in {len(LANGUAGES)} languages")
