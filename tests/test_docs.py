"""README is a front page whose figures are the results pages' own: at most 250 lines, every figure of its
"Results at a glance" tables found in the row of the same run on the linked results page, every relative link
pointing at a file (and heading) that exists. The docs site itself is built with `mkdocs build --strict` in .ci/run."""

import re
import unicodedata

from conftest import ROOT

README = ROOT / "README.md"


def section(text: str, title: str) -> str:
    """The markdown under the `## title` heading, up to the next `## ` heading."""
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert m, f"README has no '## {title}' section"
    return m.group(1)


def table_rows(text: str) -> list[list[str]]:
    """The cells of every markdown table row in `text` (header and separator rows included)."""
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines()
            if line.startswith("|")]


def slug(heading: str) -> str:
    """A heading's anchor as MkDocs (python-markdown's toc) and GitHub write it for these pages."""
    value = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


def test_readme_is_a_front_page_of_at_most_250_lines():
    assert len(README.read_text().splitlines()) <= 250


def test_every_at_a_glance_figure_equals_its_results_page_figure():
    rows = table_rows(section(README.read_text(), "Results at a glance"))
    checked = 0
    for cells in rows:
        link = re.search(r"\]\((docs/[^)#]+)", cells[-1])
        if not link:  # the header and separator rows
            continue
        page_rows = table_rows((ROOT / link.group(1)).read_text())
        run = cells[1]
        # A run is named in backticks on its page; a published row has no run and is found by its label.
        key = run if run != "–" else cells[0].split("published: ", 1)[1]
        figures = [c for c in cells[2:-1] if re.search(r"\d", c)]
        assert figures, cells
        matches = [r for r in page_rows if any(key in c for c in r) and all(f in r for f in figures)]
        assert matches, f"README row {cells[0]!r}: no row of {link.group(1)} names {key} with all of {figures}"
        checked += len(figures)
    assert checked >= 30  # three tasks' tables: a parse that silently found nothing must fail


def test_every_relative_link_in_readme_and_the_docs_points_at_a_file_and_heading_that_exist():
    pages = [README, *sorted((ROOT / "docs").rglob("*.md"))]
    for page in pages:
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):  # http(s), mailto: not checked offline
                continue
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            assert file.exists(), f"{page.relative_to(ROOT)}: link {target} points at a missing file"
            if anchor and file.suffix == ".md":
                headings = re.findall(r"^#{1,6} (.+)$", re.sub(r"```.*?```", "", file.read_text(), flags=re.S), re.M)
                assert anchor in {slug(h)
                                  for h in headings}, f"{page.relative_to(ROOT)}: no heading #{anchor} in {path}"
