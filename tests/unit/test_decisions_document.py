"""Every decision or Camunda section a comment cites is explained inside the repository.

Comments and tests say "spec A5" or "B.3.2"; docs/decisions.md must have a section for each
code, so that a newcomer can look it up without a document from outside the repository.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CITED_IN = ("app", "schemas", "workers", "config", "tests", "README.rst")
# "A" and one or two digits, "B." and dotted numbers; not the A0 of a URL-encoded byte (%ED%A0%80).
CODE = re.compile(r"(?<![%\w])(A[1-9][0-9]?|B\.[0-9]+(?:\.[0-9]+)*)\b")
SECTION = re.compile(r"^### (A[0-9]+|B\.[0-9]+(?:\.[0-9]+)*):", re.MULTILINE)


def _cited_codes():
    cited = {}
    for top in CITED_IN:
        path = ROOT / top
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        for file in files:
            for code in CODE.findall(file.read_text(encoding="utf-8")):
                cited.setdefault(code, str(file.relative_to(ROOT)))
    return cited


def test_every_cited_code_has_a_section():
    documented = set(SECTION.findall((ROOT / "docs" / "decisions.md").read_text(encoding="utf-8")))
    cited = _cited_codes()
    assert {"A1", "A12", "B.3.2"} <= set(cited)  # the scan itself still finds the comments
    missing = {code: where for code, where in cited.items() if code not in documented}
    assert not missing, f"cited but not explained in docs/decisions.md: {missing}"


def test_every_decision_from_a1_to_a14_has_a_section():
    documented = set(SECTION.findall((ROOT / "docs" / "decisions.md").read_text(encoding="utf-8")))
    assert {f"A{number}" for number in range(1, 15)} <= documented


def test_the_readme_points_inside_the_repository():
    readme = (ROOT / "README.rst").read_text(encoding="utf-8")
    assert "docs/decisions.md <docs/decisions.md>" in readme
    # A path that climbs out of the checkout ("../x"); "``.../count``" is the README's ellipsis.
    assert not re.search(r"(?<!\.)\.\./", readme) and "shared/spec" not in readme
