"""Metrics shared by the tasks: teacher-forced NLL, tagging accuracy, simple sample statistics.

Everything that loops over a data loader gathers across processes with `gather_for_metrics`,
so a two-process evaluation counts every example exactly once.
"""

from __future__ import annotations

import math

import torch


@torch.no_grad()
def teacher_forced_nll(gen, loader, accelerator, unk_id: int | None = None) -> dict:
    """Per-token negative log-likelihood (nats) of the loader's labels under `gen`.

    With `unk_id`, also the share of [UNK] targets and the NLL over the other tokens alone.
    """
    gen.eval()
    sums = torch.zeros(4, dtype=torch.float64)  # nll, tokens, nll of known tokens, known tokens
    for batch in loader:
        logp = gen.token_logprobs(batch)  # (B, T), zero at padding
        known = batch["mask"] if unk_id is None else batch["mask"] & (batch["labels"] != unk_id)  # (B, T)
        per_seq = torch.stack([-logp.sum(1), batch["mask"].sum(1), -(logp * known).sum(1), known.sum(1)], 1).double()
        sums += accelerator.gather_for_metrics(per_seq).sum(0).cpu()  # (B, 4) -> (4,)
    nll = (sums[0] / sums[1].clamp(min=1)).item()
    out = {"nll": nll, "ppl": math.exp(min(nll, 50.0)), "num_tokens": int(sums[1].item())}
    if unk_id is not None:
        out["unk_rate"] = 1.0 - (sums[3] / sums[1].clamp(min=1)).item()
        out["nll_known"] = (sums[2] / sums[3].clamp(min=1)).item()
    return out


def tagging_scores(pred: list[list[str]], gold: list[list[str]], words: list[list[str]],
                   train_words: set[str]) -> dict:
    """UPOS accuracy overall and on words unseen in training, and sentence exact match."""
    if len(pred) != len(gold) or len(gold) != len(words):
        raise ValueError(f"got {len(pred)} predictions for {len(gold)} gold sentences")
    n = correct = n_unk = correct_unk = exact = 0
    for p, g, w in zip(pred, gold, words):
        if len(p) != len(g):
            raise ValueError(f"prediction has {len(p)} tags for a sentence of {len(g)} words: {' '.join(w)}")
        hits = [a == b for a, b in zip(p, g)]
        n, correct, exact = n + len(g), correct + sum(hits), exact + all(hits)
        for hit, word in zip(hits, w):
            if word not in train_words:
                n_unk, correct_unk = n_unk + 1, correct_unk + hit
    return {
        "accuracy": correct / max(n, 1),
        "unknown_word_accuracy": correct_unk / max(n_unk, 1),
        "exact_match": exact / max(len(gold), 1),
        "num_words": n,
        "num_unknown_words": n_unk,
        "num_sentences": len(gold),
    }
