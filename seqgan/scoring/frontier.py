"""The signed gap of a model's point to MLE's temperature curve (Caccia et al. 2020): is it beyond the curve?

    from seqgan.scoring.frontier import curve_gap
    curve = [(r["nll_oracle"], r["nll_test"]) for r in mle_sweep_rows]       # MLE at each temperature
    gap = curve_gap(curve, (point["nll_oracle"], point["nll_test"]), "min")  # > 0: beyond MLE

A method trades quality against diversity much as a temperature does, so a point is judged against the
curve MLE traces over temperatures, not against MLE at T = 1. The curve is interpolated piecewise-linearly
in x; the gap is y's advantage over the curve at the point's x (positive = beyond MLE), and None where the
point's x lies outside the swept range (no extrapolation). Each task names its pairs of axes in FRONTIER.
"""

from __future__ import annotations


def interpolate(curve: list[tuple[float, float]], x: float) -> float | None:
    """y of the piecewise-linear curve through `curve`'s (x, y) points (sorted here) at x; None outside its range."""
    pts = sorted(curve)
    if not pts or x < pts[0][0] or x > pts[-1][0]:
        return None
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x0 <= x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return pts[0][1]  # a curve of one point, at exactly that x


def curve_gap(curve: list[tuple[float, float]], point: tuple[float, float], better: str) -> float | None:
    """The point's advantage in y over the curve at its x: better="min" (lower y is better) gives curve − y,
    better="max" gives y − curve. None when the point's x is outside the curve's range."""
    if better not in ("min", "max"):
        raise ValueError(f"better must be 'min' or 'max', got {better!r}.")
    y = interpolate(curve, point[0])
    if y is None:
        return None
    return y - point[1] if better == "min" else point[1] - y
