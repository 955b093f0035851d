"""Metrics shared by the tasks: teacher-forced NLL, tagging scores, and quality + diversity of text samples.

    teacher_forced_nll(gen, loader, accelerator, temperature=0.8)   # NLL of a tempered model
    tagging_scores(pred, gold, words, train_words, train_bigrams)    # accuracy, per-tag P/R/F1, ...
    text_metrics(samples, references, train=train_sentences)         # BLEU, self-BLEU, distinct-n, ...

Everything that loops over a data loader gathers across processes with `gather_for_metrics`,
so a two-process evaluation counts every example exactly once.
"""

from __future__ import annotations

import math
from collections import Counter

import torch

from seqgan.scoring import bleu


@torch.no_grad()
def teacher_forced_nll(gen, loader, accelerator, unk_id: int | None = None, temperature: float = 1.0) -> dict:
    """Per-token negative log-likelihood (nats) of the loader's labels under `gen`.

    With `unk_id`, also the share of [UNK] targets and the NLL over the other tokens alone. With
    `temperature`, the NLL of the tempered model p_T(y_t) ∝ p(y_t)^(1/T), the one sampling at T draws from.
    """
    gen.eval()
    sums = torch.zeros(4, dtype=torch.float64)  # nll, tokens, nll of known tokens, known tokens
    for batch in loader:
        logp = gen.token_logprobs(batch, temperature=temperature)  # (B, T), zero at padding
        scored = batch["mask"] & (batch["labels"] >= 0)  # (B, T); a negative label is outside the vocabulary
        known = scored if unk_id is None else scored & (batch["labels"] != unk_id)  # (B, T)
        per_seq = torch.stack([-logp.sum(1), scored.sum(1), -(logp * known).sum(1), known.sum(1)], 1).double()
        sums += accelerator.gather_for_metrics(per_seq).sum(0).cpu()  # (B, 4) -> (4,)
    nll = (sums[0] / sums[1].clamp(min=1)).item()
    out = {"nll": nll, "ppl": math.exp(min(nll, 50.0)), "num_tokens": int(sums[1].item())}
    if unk_id is not None:
        out["unk_rate"] = 1.0 - (sums[3] / sums[1].clamp(min=1)).item()
        out["nll_known"] = (sums[2] / sums[3].clamp(min=1)).item()
    return out


BOUNDARY = "<s>"  # sentence start/end in tag bigrams


def tag_bigrams(tags: list[str]) -> list[tuple[str, str]]:
    """Tag bigrams of a sentence, with the sentence boundary on both sides: <s> DET, DET NOUN, NOUN <s>."""
    seq = [BOUNDARY, *tags, BOUNDARY]
    return list(zip(seq[:-1], seq[1:]))


def tagging_scores(pred: list[list[str]], gold: list[list[str]], words: list[list[str]], train_words: set[str],
                   train_bigrams: set[tuple[str, str]] | None = None, tagset: list[str] | None = None) -> dict:
    """Tagging metrics: accuracy overall / on words seen / unseen in training, sentence exact match,
    per-tag precision, recall and F1, and the share of predicted tag bigrams never seen in training
    (a direct measure of global structure; the gold test sequences' own rate is reported beside it), and the
    words and errors of each sentence (for paired tests between systems, seqgan/scoring/significance.py)."""
    if len(pred) != len(gold) or len(gold) != len(words):
        raise ValueError(f"got {len(pred)} predictions for {len(gold)} gold sentences")
    n = correct = n_unk = correct_unk = exact = 0
    tp, n_pred, n_gold = Counter(), Counter(), Counter()
    errors = []  # per sentence: scripts/compare.py's paired bootstrap over sentences reads them
    for p, g, w in zip(pred, gold, words):
        if len(p) != len(g):
            raise ValueError(f"prediction has {len(p)} tags for a sentence of {len(g)} words: {' '.join(w)}")
        hits = [a == b for a, b in zip(p, g)]
        errors.append(len(g) - sum(hits))
        n, correct, exact = n + len(g), correct + sum(hits), exact + all(hits)
        for hit, word in zip(hits, w):
            if word not in train_words:
                n_unk, correct_unk = n_unk + 1, correct_unk + hit
        n_pred.update(p)
        n_gold.update(g)
        tp.update(a for a, hit in zip(p, hits) if hit)
    n_known = n - n_unk
    out = {
        "accuracy": correct / max(n, 1),
        "known_word_accuracy": (correct - correct_unk) / max(n_known, 1),
        "unknown_word_accuracy": correct_unk / max(n_unk, 1),
        "exact_match": exact / max(len(gold), 1),
        "num_words": n,
        "num_unknown_words": n_unk,
        "num_sentences": len(gold),
        "sentence_words": [len(g) for g in gold],
        "sentence_errors": errors,
    }
    for tag in tagset or sorted(set(n_gold) | set(n_pred)):
        prec = tp[tag] / n_pred[tag] if n_pred[tag] else 0.0
        rec = tp[tag] / n_gold[tag] if n_gold[tag] else 0.0
        out[f"tag/{tag}/precision"], out[f"tag/{tag}/recall"] = prec, rec
        out[f"tag/{tag}/f1"] = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[f"tag/{tag}/support"] = n_gold[tag]
    if train_bigrams is not None:
        for name, seqs in (("unseen_bigram_rate", pred), ("gold_unseen_bigram_rate", gold)):
            bigrams = [b for s in seqs for b in tag_bigrams(s)]
            out[name] = sum(b not in train_bigrams for b in bigrams) / max(len(bigrams), 1)
    return out


def distinct_ids(tokens: torch.Tensor, mask: torch.Tensor, n: int) -> float:
    """distinct-n of a batch of sampled id sequences (B, T) with mask (B, T): a cheap collapse monitor."""
    seqs = [t[m].tolist() for t, m in zip(tokens, mask)]
    grams = [tuple(s[i:i + n]) for s in seqs for i in range(len(s) - n + 1)]
    return len(set(grams)) / max(len(grams), 1)


def ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


def diversity(samples: list[list[str]], orders=(1, 2, 3, 4)) -> dict:
    """distinct-n (unique / total n-grams over all samples), n-gram entropy (nats, of the pooled
    n-gram distribution) and the fraction of unique sentences."""
    out = {"unique_ratio": len({tuple(s) for s in samples}) / max(len(samples), 1)}
    for n in orders:
        counts = Counter(g for s in samples for g in ngrams(s, n))
        total = sum(counts.values())
        out[f"distinct_{n}"] = len(counts) / total if total else 0.0
        out[f"entropy_{n}"] = -math.fsum(c / total * math.log(c / total) for c in counts.values()) if total else 0.0
    return out


def copy_rate(samples: list[list[str]], train: list[list[str]]) -> float:
    """Fraction of samples that are verbatim copies of a training sentence (memorisation)."""
    seen = {tuple(s) for s in train}
    return sum(tuple(s) in seen for s in samples) / max(len(samples), 1)


def text_metrics(samples: list[list[str]], references: list[list[str]] | None = None,
                 train: list[list[str]] | None = None, orders=bleu.ORDERS) -> dict:
    """Quality and diversity of tokenised samples, always together.

    test_bleu: mean sentence BLEU-n of each sample against the whole reference set; self_bleu:
    leave-one-out, each sample against all other samples (see seqgan/scoring/bleu.py for the exact definition).
    """
    out = {"num_samples": len(samples), "mean_length": sum(map(len, samples)) / max(len(samples), 1)}
    if references is not None:
        out["num_references"] = len(references)
        out["test_bleu"] = {str(k): v for k, v in bleu.test_bleu(samples, references, orders).items()}
    if len(samples) >= 2:
        out["self_bleu"] = {str(k): v for k, v in bleu.self_bleu(samples, orders).items()}
    out.update(diversity(samples))
    if train is not None:
        out["copy_rate"] = copy_rate(samples, train)
    out["bleu_settings"] = bleu.SETTINGS
    return out


def named_bleu(metrics: dict) -> dict:
    """text_metrics' nested BLEU under the names evaluation reports: test_bleu {"5": x} -> bleu_5,
    self_bleu -> self_bleu_5."""
    return {**{f"bleu_{k}": v for k, v in metrics.get("test_bleu", {}).items()},
            **{f"self_bleu_{k}": v for k, v in metrics.get("self_bleu", {}).items()}}


def flatten(metrics: dict, prefix: str = "") -> dict:
    """{"test_bleu": {"2": x}} -> {"test_bleu_2": x}; settings dicts are dropped (they are not numbers)."""
    out = {}
    for k, v in metrics.items():
        if isinstance(v, dict):
            if k != "bleu_settings":
                out.update(flatten(v, f"{prefix}{k}_"))
        else:
            out[f"{prefix}{k}"] = v
    return out
