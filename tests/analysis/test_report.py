import re

import pandas as pd

from socialsim.analysis import report

from .tables import write_run_dir

REMOTE = re.compile(r"""(src|href)\s*=\s*["']?\s*(https?:)?//|@import|url\(\s*["']?https?:""", re.I)


def test_run_report_is_self_contained_and_escaped(tmp_path):
    root = write_run_dir(tmp_path / "run", text="<script>alert(1)</script> & friends")
    path = report.write_report(root)
    page = path.read_text(encoding="utf-8")
    assert path == root / "report.html"
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; friends" in page
    assert "<script" not in page.lower()
    assert not REMOTE.search(page)
    assert "data:image/png;base64," in page
    assert "name: tiny &lt;run&gt;" in page  # the config, escaped
    assert "c1 is true" in page  # the conversation sample
    assert (root / "figures" / "adoption.png").is_file()


def test_sweep_report_has_cells_and_sweep_plots(tmp_path):
    root = tmp_path / "sweep"
    root.mkdir()
    (root / "config.yaml").write_text(
        "name: s\nsweep:\n  network.kind: [ring, complete]\n  seed: [1, 2]\n"
    )
    pd.DataFrame(
        {
            "network.kind": ["ring", "ring", "complete", "complete"],
            "seed": [1, 2, 1, 2],
            "reach.c1": [0.2, 0.3, 0.8, 0.9],
            "run_dir": ["a", "b", "c", "d"],
        }
    ).to_csv(root / "results.csv", index=False)
    page = report.write_report(root).read_text(encoding="utf-8")
    assert "Results per cell (4 runs)" in page
    assert "reach.c1" in page and "complete" in page
    assert (root / "figures" / "sweep_network.kind_reach.c1.png").is_file()
    assert not REMOTE.search(page)


def test_html_table_escapes_cells():
    html = report.html_table(pd.DataFrame({"<b>": ["<i>x</i>"]}))
    assert "&lt;b&gt;" in html and "&lt;i&gt;x&lt;/i&gt;" in html


def test_report_with_scenario_sections(tmp_path):
    from .tables import scenario_events

    root = write_run_dir(tmp_path / "run", rows=scenario_events())
    page = report.write_report(root).read_text(encoding="utf-8")
    for heading in ("Norms", "Collaboration", "Debate", "Authority pressure", "Stance vs exposure"):
        assert f"<h2>{heading}</h2>" in page
    assert "<b>because</b>" not in page
    assert (root / "figures" / "adherence.png").is_file()


def test_run_report_uses_the_stored_analysis(tmp_path):
    from socialsim.analysis import summarize

    root = write_run_dir(tmp_path / "run")
    summarize.analyze_dir(root)
    page = report.write_report(root).read_text(encoding="utf-8")
    assert "<td>reach.c1</td><td>0.75</td>" in page
