"""references.bib parses, has no duplicate keys, and every cited key exists.

A broken entry (a lost brace after a merge) stops the whole build at its first step; this
catches it in a second, with the fast tests.
"""

import re
from pathlib import Path

from pybtex.database import parse_file

ROOT = Path(__file__).resolve().parents[1]
BIB = ROOT / "references.bib"
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")


def test_bibliography_parses_without_duplicate_keys():
    text = BIB.read_text()
    keys = re.findall(r"^@\w+\{([^,]+),", text, flags=re.MULTILINE)
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    assert sorted(parse_file(str(BIB)).entries) == sorted(keys)


def test_every_cited_key_is_in_the_bibliography():
    keys = set(parse_file(str(BIB)).entries)
    cited = {
        key.strip()
        for page in (ROOT / "book").glob("*.md")
        for group in CITE.findall(page.read_text())
        for key in group.split(",")
    }
    assert cited <= keys, sorted(cited - keys)
