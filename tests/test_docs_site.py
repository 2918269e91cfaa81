"""The documentation site's sources: every nav page exists, relative links resolve, the
build is wired into CI and the README stays a short landing page that links into the site."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def nav_files(entries: list) -> list[str]:
    """Every page path named in an mkdocs nav, depth first."""
    found: list[str] = []
    for entry in entries:
        values = entry.values() if isinstance(entry, dict) else [entry]
        for value in values:
            found += nav_files(value) if isinstance(value, list) else [value]
    return found


def mkdocs_config() -> dict:
    """mkdocs.yml, read without its `!` tags (none are used)."""
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))


def relative_links(page: Path) -> list[str]:
    """Markdown link targets in a page outside code, without anchors; external ones left out."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    targets = [t.split("#", 1)[0] for t in LINK.findall(text)]
    return [t for t in targets if t and not re.match(r"[a-z]+:", t)]


def test_every_nav_page_exists_and_every_page_is_in_the_nav():
    nav = nav_files(mkdocs_config()["nav"])
    assert len(nav) >= 30
    assert not [p for p in nav if not (DOCS / p).is_file()]
    assert len(set(nav)) == len(nav)
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert pages - set(nav) == set()


def test_the_existing_reference_pages_stay_where_they_are_and_are_in_the_nav():
    nav = set(nav_files(mkdocs_config()["nav"]))
    for name in ("architecture.md", "measures.md", "benchmarks.md", "rules.md"):
        assert name in nav and (DOCS / name).is_file()


def test_relative_links_in_the_docs_and_the_readme_resolve():
    broken = [
        f"{page.relative_to(ROOT)} -> {target}"
        for page in [ROOT / "README.md", *DOCS.rglob("*.md")]
        for target in relative_links(page)
        if not (page.parent / target).exists()
    ]
    assert broken == []


def test_the_readme_is_a_landing_page_that_links_into_the_site():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    links = set(relative_links(ROOT / "README.md"))
    assert "docs/getting-started.md" in links
    scenario_pages = {
        f"docs/{p.relative_to(DOCS).as_posix()}" for p in (DOCS / "scenarios").glob("*.md")
    }
    assert scenario_pages - {"docs/scenarios/index.md"} <= links


def test_ci_builds_the_site_strictly_and_the_dev_extra_installs_the_tools():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^[^#\n]*mkdocs build --strict", ci, flags=re.M)
    assert mkdocs_config().get("strict") is True
    dev = (
        (ROOT / "pyproject.toml")
        .read_text(encoding="utf-8")
        .split("dev = [", 1)[1]
        .split("]\n", 1)[0]
    )
    for package in ("mkdocs", "mkdocs-material", "mkdocstrings[python]"):
        assert f'"{package}' in dev
