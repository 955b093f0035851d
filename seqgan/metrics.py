"""Metrics shared by the tasks: teacher-forced NLL, tagging accuracy, simple sample statistics.

Everything that loops over a data loader gathers across processes with `gather_for_metrics`,
so a two-process evaluation counts every example exactly once.
"""

from __future__ import annotations

import math

import torch


@torch.no_grad()
def teacher_forced_nll(gen, loader, accelerator) -> dict:
    """Per-token negative log-likelihood (nats) of the loader's labels under `gen`."""
    gen.eval()
    total, count = torch.zeros((), dtype=torch.float64), torch.zeros((), dtype=torch.float64)
    for batch in loader:
        logp = gen.token_logprobs(batch)  # (B, T), zero at padding
        per_seq = torch.stack([-logp.sum(1).double(), batch["mask"].sum(1).double()], 1)  # (B, 2)
        per_seq = accelerator.gather_for_metrics(per_seq)
        total += per_seq[:, 0].sum().cpu()
        count += per_seq[:, 1].sum().cpu()
    nll = (total / count.clamp(min=1)).item()
    return {"nll": nll, "ppl": math.exp(min(nll, 50.0)), "num_tokens": int(count.item())}


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
