"""The CoNLL 2018 shared task's raw-text metrics: Tokens, Sentences, Words and UPOS F1 of a system's segmentation and
tags against a gold treebank, both as seqgan.conllu.read_treebank reads them.

    scores = raw_text_scores(read_treebank("gold.conllu"), read_treebank("system.conllu"))
    scores["upos"]   # {"precision", "recall", "f1", "gold", "system", "correct"}

The same definitions as the official evaluator (conll18_ud_eval.py, universaldependencies.org/conll18/evaluation.html),
written from its description; tests/test_segment.py checks every figure against it (the `udtools` package ships it):
- the two files must hold the same characters once whitespace is removed (anything else is an error, not a score);
- a token or sentence is correct when its span of non-whitespace characters is exactly a gold one;
- words are aligned one to one by span, except inside a multiword token (on either side), where the words of the
  smallest region covering the overlapping tokens are aligned by their longest common subsequence of lower-cased
  forms; Words F1 counts aligned words, UPOS F1 aligned words with the gold tag.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass
class _Word:
    start: int           # the span of its token (of the whole multiword token for its words), in non-space characters
    end: int
    form: str
    upos: str
    multiword: bool


def _layout(sentences: list[dict]) -> tuple[str, list[tuple[int, int]], list[tuple[int, int]], list[_Word]]:
    """The non-whitespace characters, token spans, sentence spans and words of a treebank."""
    chars, tokens, sents, words = [], [], [], []
    at = 0
    for s in sentences:
        first = at
        for tok in s["tokens"]:
            # Spaces inside a form (a Zs character: "3 500") are not characters to match, as in the official script.
            form = "".join(c for c in tok["form"] if unicodedata.category(c) != "Zs")
            chars.append(form)
            tokens.append((at, at + len(form)))
            for w_form, upos in tok["words"]:
                words.append(_Word(at, at + len(form), w_form, upos, len(tok["words"]) > 1))
            at += len(form)
        sents.append((first, at))
    return "".join(chars), tokens, sents, words


def _prf(gold: int, system: int, correct: int) -> dict:
    p = correct / system if system else 0.0
    r = correct / gold if gold else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "gold": gold, "system": system,
            "correct": correct}


def _span_score(gold: list[tuple[int, int]], system: list[tuple[int, int]]) -> dict:
    correct, gi, si = 0, 0, 0
    while gi < len(gold) and si < len(system):
        if system[si][0] < gold[gi][0]:
            si += 1
        elif gold[gi][0] < system[si][0]:
            gi += 1
        else:
            correct += gold[gi][1] == system[si][1]
            gi, si = gi + 1, si + 1
    return _prf(len(gold), len(system), correct)


def _region(gold: list[_Word], system: list[_Word], gi: int, si: int) -> tuple[int, int, int, int]:
    """The smallest run of words on both sides, from (gi, si), covering every token that overlaps a multiword token
    there: (gold start, system start, gold end, system end)."""
    def past(words, i, end):
        if i >= len(words):
            return True
        return words[i].start >= end if words[i].multiword else words[i].end > end

    if gold[gi].multiword:
        end = gold[gi].end
        if not system[si].multiword and system[si].start < gold[gi].start:
            si += 1
    else:
        end = system[si].end
        if not gold[gi].multiword and gold[gi].start < system[si].start:
            gi += 1
    gs, ss = gi, si
    while not past(gold, gi, end) or not past(system, si, end):
        if gi < len(gold) and (si >= len(system) or gold[gi].start <= system[si].start):
            end = max(end, gold[gi].end) if gold[gi].multiword else end
            gi += 1
        else:
            end = max(end, system[si].end) if system[si].multiword else end
            si += 1
    return gs, ss, gi, si


def _lcs_pairs(gold: list[_Word], system: list[_Word]) -> list[tuple[_Word, _Word]]:
    """Words paired along a longest common subsequence of lower-cased forms (ties: the earliest gold word first)."""
    G, S = len(gold), len(system)
    lcs = [[0] * (S + 1) for _ in range(G + 1)]
    for g in reversed(range(G)):
        for s in reversed(range(S)):
            same = gold[g].form.lower() == system[s].form.lower()
            lcs[g][s] = max(lcs[g + 1][s + 1] + 1 if same else 0, lcs[g + 1][s], lcs[g][s + 1])
    pairs, g, s = [], 0, 0
    while g < G and s < S:
        if gold[g].form.lower() == system[s].form.lower():
            pairs.append((gold[g], system[s]))
            g, s = g + 1, s + 1
        elif lcs[g][s] == lcs[g + 1][s]:
            g += 1
        else:
            s += 1
    return pairs


def _align(gold: list[_Word], system: list[_Word]) -> list[tuple[_Word, _Word]]:
    pairs, gi, si = [], 0, 0
    while gi < len(gold) and si < len(system):
        if gold[gi].multiword or system[si].multiword:
            gs, ss, gi, si = _region(gold, system, gi, si)
            pairs += _lcs_pairs(gold[gs:gi], system[ss:si])
        elif (gold[gi].start, gold[gi].end) == (system[si].start, system[si].end):
            pairs.append((gold[gi], system[si]))
            gi, si = gi + 1, si + 1
        elif gold[gi].start <= system[si].start:
            gi += 1
        else:
            si += 1
    return pairs


def _aligned(gold: list[dict], system: list[dict]):
    """Both treebanks' layouts (_layout) and their aligned word pairs; ValueError when their characters differ."""
    g, s = _layout(gold), _layout(system)
    if g[0] != s[0]:
        i = next((k for k, (a, b) in enumerate(zip(g[0], s[0])) if a != b), min(len(g[0]), len(s[0])))
        raise ValueError(f"the system's tokens do not spell the gold text: they differ at non-space character {i} "
                         f"(gold {g[0][i:i + 20]!r}, system {s[0][i:i + 20]!r}); every input character must "
                         "survive segmentation.")
    return g, s, _align(g[3], s[3])


def raw_text_scores(gold: list[dict], system: list[dict]) -> dict:
    """{"tokens", "sentences", "words", "upos"} -> precision, recall, F1 and counts; ValueError when the two
    treebanks' characters differ (the system lost or changed text), naming the first difference."""
    (_, g_tokens, g_sents, g_words), (_, s_tokens, s_sents, s_words), pairs = _aligned(gold, system)
    return {"tokens": _span_score(g_tokens, s_tokens), "sentences": _span_score(g_sents, s_sents),
            "words": _prf(len(g_words), len(s_words), len(pairs)),
            "upos": _prf(len(g_words), len(s_words), sum(g.upos == s.upos for g, s in pairs))}


def upos_by_sentence(gold: list[dict], system: list[dict]) -> dict:
    """Per gold sentence: its words and its UPOS errors (gold words with no aligned system word of the same tag),
    aligned as raw_text_scores aligns them. Their sums give UPOS recall; two taggings of one segmentation differ only
    here, so seqgan.scoring.significance.paired_bootstrap compares them over sentences."""
    (_, _, g_sents, g_words), _, pairs = _aligned(gold, system)
    right = {id(g) for g, s in pairs if g.upos == s.upos}
    words, errors = [0] * len(g_sents), [0] * len(g_sents)
    k = 0
    for w in g_words:  # words come in text order, sentences too
        while w.start >= g_sents[k][1] and k + 1 < len(g_sents):
            k += 1
        words[k] += 1
        errors[k] += id(w) not in right
    return {"words": words, "errors": errors}


def flat_scores(scores: dict) -> dict:
    """raw_text_scores' result as one flat JSON record: `<metric>_f1`, `_precision`, `_recall` and `_counts` (gold,
    system, correct), the keys that evaluate.py --raw_text writes and compare.py's raw-text table reads."""
    out = {f"{k}_{m}": v[m] for k, v in scores.items() for m in ("f1", "precision", "recall")}
    out.update({f"{k}_counts": {c: v[c] for c in ("gold", "system", "correct")} for k, v in scores.items()})
    return out
