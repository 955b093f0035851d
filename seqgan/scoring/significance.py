"""Paired significance of a tagging accuracy difference: the bootstrap over test sentences.

    from seqgan.scoring.significance import paired_bootstrap
    r = paired_bootstrap(words, errors_a, errors_b)   # per-sentence word counts and errors of systems a and b
    r["delta"], r["ci_low"], r["ci_high"], r["p_value"]   # accuracy(a) - accuracy(b), its 95% CI, two-sided p

Both systems tag the same sentences, so the sentence is the unit that is resampled (errors within a sentence
are correlated, tokens are not independent draws). Resampling n sentences with replacement gives the
bootstrap distribution of delta* = (sum e_b* - sum e_a*) / sum n*; the CI is its 2.5% and 97.5% percentiles,
and the p-value is the share of resamples at least as far from delta as delta is from 0 (the bootstrap
distribution shifted to the null, Berg-Kirkpatrick et al. 2012), so identical systems get p = 1.
`errors` may be fractional: the mean errors per sentence over seeds compares two configurations.
"""

from __future__ import annotations

import numpy as np


def paired_bootstrap(words, errors_a, errors_b, resamples: int = 10_000, seed: int = 0) -> dict:
    words, ea, eb = (np.asarray(x, dtype=np.float64) for x in (words, errors_a, errors_b))
    if not (words.shape == ea.shape == eb.shape) or words.ndim != 1 or len(words) == 0:
        raise ValueError(f"paired_bootstrap needs one word count and one error count per sentence for both systems; "
                         f"got {words.shape}, {ea.shape}, {eb.shape}. Were the two runs evaluated on the same test "
                         "file?")
    if (ea > words).any() or (eb > words).any() or (ea < 0).any() or (eb < 0).any():
        raise ValueError("paired_bootstrap: a sentence has more errors than words (or negative ones).")
    diff = eb - ea  # (S,) errors that b makes and a does not, per sentence
    delta = diff.sum() / words.sum()
    rng = np.random.default_rng(seed)
    deltas = np.empty(resamples)
    for start in range(0, resamples, 1000):  # 1,000 resamples at a time bounds memory for large test sets
        idx = rng.integers(0, len(words), size=(min(1000, resamples - start), len(words)))  # (R, S)
        deltas[start:start + len(idx)] = diff[idx].sum(1) / words[idx].sum(1)
    lo, hi = np.percentile(deltas, [2.5, 97.5])
    p = float(np.mean(np.abs(deltas - delta) >= abs(delta) - 1e-12))  # shifted to H0: delta = 0
    return {"delta": float(delta), "ci_low": float(lo), "ci_high": float(hi), "p_value": p, "resamples": resamples,
            "sentences": len(words)}
