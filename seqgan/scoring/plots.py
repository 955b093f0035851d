"""Quality-diversity plots of temperature sweeps (Caccia et al., "Language GANs Falling Short").

    plot_sweep(rows, get_task("text").SWEEP_AXES, "runs/text-mle/sweep_test.png")   # panels: the task's axes

One curve per checkpoint, one point per temperature, labelled with it. Every axis says which way
is better, because the two axes of a quality-diversity plot improve in different directions.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def plot_sweep(rows: list[dict], panels: list[tuple[str, str, str, str]], path: str | Path, title: str = "") -> Path:
    """Write the sweep plot to `path` (PNG) atomically: one panel per (x metric, y metric, x label, y label)."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    labels = list(dict.fromkeys(r["label"] for r in rows))
    beside = len(labels) > 5  # a long legend inside the axes would hide the points it names: put it beside them
    fig, axes = plt.subplots(1, len(panels), figsize=((6.2 + 4.5 * beside) * len(panels), 4.8), squeeze=False)
    for ax, (x, y, xl, yl) in zip(axes[0], panels):
        for label in labels:
            pts = sorted((r["temperature"], r[x], r[y]) for r in rows if r["label"] == label)
            ax.plot([p[1] for p in pts], [p[2] for p in pts], marker="o", label=label)
            for t, px, py in pts:
                ax.annotate(f"{t:g}", (px, py), textcoords="offset points", xytext=(4, 4), fontsize=7)
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.grid(alpha=0.3)
        if beside:
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0)
        else:
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(f"{title} (point labels: softmax temperature)")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")  # "tight" keeps a legend placed beside the axes
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
