"""Replay of a treatment and its control side by side, from an arms directory: for one seed,
both arms' adoption and mean credence per recorded step, and the effect so far (treatment
minus control at each step). No model is run.

    seeds = paired_seeds("runs/x-arms")            # [7, 8]
    curves = arms_curves("runs/x-arms", 7)         # step, treatment_adoption, ..., effect_adoption
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from socialsim.analysis.credences import credence_array, presence
from socialsim.core.errors import ConfigError
from socialsim.core.rundata import load_run
from socialsim.dashboard.figures import adoption_curve

ARMS = ("treatment", "control")
ARMS_TITLE = "Treatment and control"


def paired_seeds(arms_dir: str | Path) -> list[int]:
    """The seeds an arms directory ran in both the treatment and the control arm."""
    root = Path(arms_dir)
    found = [
        {int(p.name[1:]) for p in (root / arm).glob("s*") if p.name[1:].isdigit()} for arm in ARMS
    ]
    return sorted(found[0] & found[1])


def arm_curve(run_dir: str | Path, claim: str | None = None) -> tuple[str, pd.DataFrame]:
    """A run's claim (the first, unless given) and its ``step, adoption, mean_credence``."""
    data = load_run(run_dir)
    if claim is None:
        if not data.claims:
            raise ConfigError(
                f"{str(run_dir)!r}: the run had no claim in play, so there is no adoption to "
                "replay; replay the arms of a scenario with claims"
            )
        claim = data.claims[0]
    recorded, matrix = credence_array(data, claim)
    if not len(recorded):
        raise ConfigError(f"{str(run_dir)!r} recorded no credence in {claim!r}")
    return claim, adoption_curve(matrix, recorded, presence(data, recorded))


def arms_curves(arms_dir: str | Path, seed: int) -> tuple[str, pd.DataFrame]:
    """The claim and, per step both arms recorded, each arm's adoption and mean credence and
    the effect (treatment minus control): columns ``step``, ``treatment_adoption``,
    ``control_adoption``, ``effect_adoption``, and the same for ``mean_credence``."""
    root = Path(arms_dir)
    if seed not in paired_seeds(root):
        raise ConfigError(
            f"{str(root)!r} has no treatment and control run of seed {seed}; pick one of "
            f"{paired_seeds(root)}"
        )
    claim, treatment = arm_curve(root / "treatment" / f"s{seed}")
    _, control = arm_curve(root / "control" / f"s{seed}", claim)
    table = treatment.merge(control, on="step", suffixes=("_t", "_c"))
    out = pd.DataFrame({"step": table["step"].astype(int)})
    for measure in ("adoption", "mean_credence"):
        out[f"treatment_{measure}"] = table[f"{measure}_t"]
        out[f"control_{measure}"] = table[f"{measure}_c"]
        out[f"effect_{measure}"] = table[f"{measure}_t"] - table[f"{measure}_c"]
    return claim, out


class ArmsReplay:
    """One seed's treatment and control stepped through their recorded steps together."""

    def __init__(self, arms_dir: str | Path, seed: int) -> None:
        self.arms_dir = Path(arms_dir)
        self.seed = int(seed)
        self.claim, self._curves = arms_curves(self.arms_dir, self.seed)
        self.position = 0
        self.running = len(self._curves) > 1

    @property
    def steps(self) -> int:
        """The recorded step shown now."""
        return int(self._curves["step"].iloc[self.position])

    @property
    def last_step(self) -> int:
        """The last step both arms recorded."""
        return int(self._curves["step"].iloc[-1])

    @property
    def title(self) -> str:
        """The page title."""
        return f"{self.arms_dir.name}: treatment and control, seed {self.seed}"

    def step(self) -> None:
        """Move both arms to the next recorded step (nothing at the last one)."""
        if self.position < len(self._curves) - 1:
            self.position += 1
        self.running = self.position < len(self._curves) - 1

    def rewound(self) -> ArmsReplay:
        """The same replay back at its first step (the curves are shared)."""
        first = copy.copy(self)
        first.position = 0
        first.running = len(self._curves) > 1
        return first

    def curves(self) -> pd.DataFrame:
        """Both arms' curves and the effect at every step up to this one."""
        return self._curves.iloc[: self.position + 1].reset_index(drop=True)


def effect_line(curves: pd.DataFrame) -> str:
    """The effect so far in words: at the last step shown, and its mean over the steps."""
    if curves.empty:
        return "no step recorded"
    last = curves.iloc[-1]
    return (
        f"step {int(last['step'])}: adoption {last['treatment_adoption']:.0%} treatment, "
        f"{last['control_adoption']:.0%} control, effect {last['effect_adoption']:+.0%} "
        f"(mean over steps so far {curves['effect_adoption'].mean():+.0%})"
    )


def arms_figure(curves: pd.DataFrame, claim: str, last_step: int | None = None) -> Figure:
    """Adoption per step in both arms (top) and the effect, treatment minus control (bottom)."""
    fig = Figure(figsize=(6, 5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[2, 1])
    for arm, colour in (("treatment", "#b40426"), ("control", "#3b4cc0")):
        top.plot(
            curves["step"], curves[f"{arm}_adoption"], marker="o", ms=3, color=colour, label=arm
        )
    top.set_ylim(-0.02, 1.02)
    top.set_ylabel("adoption")
    top.set_title(f"{ARMS_TITLE}: {claim}")
    top.legend(loc="upper left")
    bottom.bar(curves["step"], curves["effect_adoption"], color="#555555")
    bottom.axhline(0, color="#999999", linewidth=0.8)
    bottom.set_ylabel("effect")
    bottom.set_xlabel("step")
    right = max(last_step or 0, int(curves["step"].max()) if len(curves) else 0, 1)
    bottom.set_xlim(-0.5, right + 0.5)
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    return fig
