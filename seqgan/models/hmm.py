"""D alone, the generative way: a supervised HMM tagger (TnT-style), decoded by Viterbi and sampled exactly.

    accelerate launch scripts/train.py --task pos --method hmm           # count, then evaluate: about a minute

    model = fit_hmm(words, tags, tag_set, tokenizer, SeqGanHmmTaggerConfig(...))   # counting, no gradient steps
    dist = model.crf(word_ids, char_ids, mask)       # p(tags | words) as a seqgan.models.crf.LinearChainCRF
    gen = HmmTaggerGenerator(model)                  # the Generator interface: Viterbi, exact samples, exact NLL

The joint model is p(x, y) = p(y_0 | <s>) prod_t p(y_t | y_{t-1}) prod_t p(x_t | y_t) p(</s> | y_{L-1}).
Given the words, the posterior p(y | x) is a linear-chain CRF whose potentials are these log-probabilities,
so Viterbi, forward filtering / backward sampling and the exact chain-rule conditionals are the CRF's own
(seqgan/models/crf.py). Estimates, as in TnT (Brants 2000):
- transitions: bigram relative frequencies interpolated with the tag unigram, weights by deleted interpolation;
- emissions of words seen in training: p(x | t) = p(t | x) p(x) / p(t), with p(t | x) the word's tag counts
  smoothed toward the suffix model (--hmm_smoothing k pseudo-counts), p(x) = c(x) / N. With k = 0 this is the
  relative frequency c(x, t) / c(t);
- words never seen in training (mapped to [UNK] by the word table): p(t | x) from the longest suffix of the raw
  word (up to --hmm_suffix_length bytes, read from the byte ids the batch already carries) seen among rare training
  words (count <= --hmm_rare_max), with TnT's successive abstraction, separately for capitalised and other words;
  p(x) is the Good-Turing mass of unseen words, n_1 / N.
The per-word factor p(x) cancels in p(y | x), which is what the tagger decodes, samples and is scored on.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import torch
import torch.nn as nn
from transformers import AutoConfig, AutoModel, PreTrainedModel

from seqgan.models.crf import LinearChainCRF
from seqgan.models.crf_tagger import CrfTaggerGenerator
from seqgan.models.generator import Samples
from seqgan.models.tagger import BYTE_BOW, BYTE_EOW, SeqGanTaggerConfig
from seqgan.vocab import encode_words

NEG = -1e4  # log of "never": finite, so a gold tag the model rules out still has a (very large) NLL, not inf


class SeqGanHmmTaggerConfig(SeqGanTaggerConfig):
    model_type = "seqgan_hmm_tagger"  # the tagger's fields (word table, tags, byte limits); the network's are unused

    def __init__(self, suffix_length: int = 10, rare_max: int = 10, smoothing: float = 1.0, num_suffixes: int = 0,
                 order: int = 2, **kwargs):
        self.suffix_length, self.rare_max, self.smoothing, self.order = suffix_length, rare_max, smoothing, order
        self.num_suffixes = num_suffixes  # rows of the suffix table (set by fit_hmm)
        super().__init__(**kwargs)


def _frozen(*shape) -> nn.Parameter:
    # Parameters, not buffers: counted, saved and moved like any model's weights, but never trained.
    return nn.Parameter(torch.zeros(*shape), requires_grad=False)


class SeqGanHmmTagger(PreTrainedModel):
    config_class = SeqGanHmmTaggerConfig
    base_model_prefix = "hmm_tagger"

    def __init__(self, config: SeqGanHmmTaggerConfig):
        super().__init__(config)
        C, V, S, L = len(config.tags), config.word_vocab_size, max(config.num_suffixes, 1), config.suffix_length
        self.log_emit = _frozen(V, C)          # log p(x | t) of the word table's words (rows of [UNK]/specials unused)
        self.log_trans = _frozen(C, C)         # log p(t | t')
        self.log_start = _frozen(C)            # log p(t | <s>)
        self.log_end = _frozen(C)              # log p(</s> | t)
        # order 3: log p(c | a, b) over the tags and the boundary (index C: <s> as a or b, </s> as c)
        self.log_trans3 = _frozen(*((C + 1,) * 3 if config.order == 3 else (1, 1, 1)))
        self.log_tag = _frozen(C)              # log p(t)
        self.log_unseen_word = _frozen(1)      # log p(x) of a word never seen in training (n_1 / N)
        self.suffix_bytes = _frozen(S, L)      # raw bytes of each stored suffix, right-aligned, 0-padded on the left
        self.suffix_cap = _frozen(S)           # 1 for the capitalised words' table
        self.suffix_logp = _frozen(S, C)       # log p(t | suffix) after successive abstraction
        self._lookup = None                    # {(cap, suffix bytes): row}, built on first use
        self.post_init()

    def _init_weights(self, module):  # every value comes from fit_hmm or a checkpoint
        pass

    # ------------------------------------------------------------------ unknown words

    def suffix_rows(self) -> dict:
        if self._lookup is None:
            rows = self.suffix_bytes.long().tolist()
            caps = self.suffix_cap.long().tolist()
            self._lookup = {(c, bytes(b for b in r if b)): i for i, (r, c) in enumerate(zip(rows, caps))}
        return self._lookup

    def unknown_logp(self, word: str) -> torch.Tensor:
        """log p(t | word) (C,) for a word never seen in training: its longest stored suffix (TnT)."""
        raw, cap = word.encode("utf-8"), int(word[:1].isupper())
        table = self.suffix_rows()
        for n in range(min(len(raw), self.config.suffix_length), -1, -1):  # n = 0: the class's base distribution
            row = table.get((cap, raw[len(raw) - n:]))
            if row is not None:
                return self.suffix_logp[row]
        raise RuntimeError("the suffix table has no base row; refit the HMM (fit_hmm).")

    # ------------------------------------------------------------------ the posterior

    def emissions(self, word_ids: torch.Tensor, char_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        em = self.log_emit[word_ids.clamp(0, self.config.word_vocab_size - 1)].clone()  # (B, T, C)
        unknown = (word_ids == self.config.word_unk_id) & mask  # (B, T)
        for b, t in unknown.nonzero().tolist():
            em[b, t] = self.unknown_logp(bytes_to_word(char_ids[b, t].tolist())) + self.log_unseen_word - self.log_tag
        return em

    def crf(self, word_ids, char_ids, mask, temperature: float = 1.0, sub=None) -> LinearChainCRF:
        """p(y | x) as a linear chain: over tags (order 2), or over tag pairs (a, b) = (y_{t-1}, y_t) (order 3), state
        a * C + b with a = C for the sentence start; a pair moves only to a pair that starts with its own b."""
        em = self.emissions(word_ids, char_ids, mask)  # (B, T, C)
        if self.config.order == 2:
            return LinearChainCRF(em / temperature, self.log_trans / temperature, self.log_start / temperature,
                                  self.log_end / temperature, mask)
        C, lt = len(self.config.tags), self.log_trans3
        a, b = pair_states(C, em.device)  # (S,) each
        start = torch.where(a == C, lt[C, C, b], torch.full_like(lt[C, C, b], NEG))  # (S,)
        trans = torch.where(a[None, :] == b[:, None], lt[a[:, None], b[:, None], b[None, :]],
                            torch.tensor(NEG, dtype=lt.dtype,
                                                                                                             device=lt.device))
        return LinearChainCRF(em[..., b] / temperature, trans / temperature, start / temperature,
                              lt[a, b, C] / temperature,
                              mask)  # emissions (B, T, S): a pair's is its second tag's

    def forward(self, word_ids, char_ids, mask, sub=None):
        return self.crf(word_ids, char_ids, mask)


def pair_states(C: int, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(first, second) tag of each trigram-HMM state s = a * C + b, a in 0..C (C: the sentence start): (S,) each."""
    s = torch.arange((C + 1) * C, device=device)
    return s // C, s % C


AutoConfig.register(SeqGanHmmTaggerConfig.model_type, SeqGanHmmTaggerConfig)
AutoModel.register(SeqGanHmmTaggerConfig, SeqGanHmmTagger)


class HmmTaggerGenerator(CrfTaggerGenerator):
    """The HMM's posterior as a generator: Viterbi for greedy, exact samples and conditionals (CrfTaggerGenerator's).
    A trigram HMM's chain runs over tag pairs; its tokens are still tags (the pair's second), and the chain-rule
    conditional of a tag is that of the pair (y_{t-1}, y_t) given the previous pair, the same number."""

    @property
    def pairs(self) -> bool:
        return self.model.config.order == 3

    def states(self, tags: torch.Tensor) -> torch.Tensor:
        """Tag ids (B, T) -> pair states a * C + b with a the previous tag (C before the first)."""
        C = self.vocab_size
        prev = torch.cat([torch.full_like(tags[:, :1], C), tags[:, :-1]], 1)
        return prev * C + tags

    def forward(self, batch: dict) -> torch.Tensor:
        if not self.pairs:
            return super().forward(batch)
        labels = batch["labels"].masked_fill(~batch["mask"], 0).clamp(min=0)
        cond = self.dist(batch).conditionals(self.states(labels))  # (B, T, S)
        C = self.vocab_size
        prev = torch.cat([torch.full_like(labels[:, :1], C), labels[:, :-1]], 1)  # (B, T)
        # (B, T, C): pairs (y_{t-1}, c)
        return cond.gather(2, prev[..., None] * C + torch.arange(C, device=cond.device))

    def token_logprobs(self, batch: dict, temperature: float = 1.0) -> torch.Tensor:
        if not self.pairs:
            return super().token_logprobs(batch, temperature)
        valid = batch["mask"] & (batch["labels"] >= 0)  # (B, T); an unseen gold tag gets no log-prob (as in the CRF)
        st = self.states(batch["labels"].masked_fill(~valid, 0))
        lp = self.dist(batch, temperature).conditionals(st).gather(2, st[..., None]).squeeze(2)
        return torch.where(valid, lp, torch.zeros_like(lp))

    def sample(self, batch: dict | None = None, num_samples: int | None = None, temperature: float = 1.0,
               greedy: bool = False, rng: torch.Generator | None = None, return_logits: bool = False,
               gumbel: bool = False, global_rows=None) -> Samples:
        if not self.pairs:
            return super().sample(batch, num_samples, temperature, greedy, rng, return_logits, gumbel, global_rows)
        if global_rows is not None or gumbel or batch is None or (num_samples is not None
                                                                  and num_samples != batch["mask"].shape[0]):
            raise ValueError("the HMM tagger draws one exact sample per sentence of sample(batch) (no Gumbel mode, no "
                             "global_rows).")
        dist, mask = self.dist(batch, temperature), batch["mask"]
        st = dist.argmax if greedy else dist.sample(1, rng)[0]  # (B, T) pair states, -1 at padding
        lp = dist.conditionals(st.clamp(min=0)).gather(2, st.clamp(min=0)[..., None]).squeeze(2)
        tags = (st % self.vocab_size).masked_fill(~mask, self.pad_id)
        logits = self.forward({**batch, "labels": tags}) if return_logits else None
        return Samples(tokens=tags, logprobs=torch.where(mask, lp, torch.zeros_like(lp)), mask=mask, logits=logits)

    def structured_loss(self, batch, kind, ctx=None):
        raise ValueError("the HMM is estimated by counting (--method hmm); it has no gradient loss.")


def bytes_to_word(ids: list[int]) -> str:
    """The word a row of byte ids (seqgan.models.tagger.word_bytes) spells: markers and padding dropped. A long word's
    middle was cut there, but its end, which the suffix model reads, is whole."""
    return bytes(i - 1 for i in ids if i not in (0, BYTE_BOW, BYTE_EOW)).decode("utf-8", errors="replace")


def deleted_interpolation(bigrams: Counter, unigrams: Counter, total: int) -> tuple[float, float]:
    """TnT's weights (lambda_unigram, lambda_bigram): each bigram's count goes to the estimate that predicts it
    better with that one occurrence left out."""
    lam = [0.0, 0.0]
    for (a, b), n in bigrams.items():
        uni = (unigrams[b] - 1) / (total - 1) if total > 1 else 0.0
        bi = (n - 1) / (unigrams[a] - 1) if unigrams[a] > 1 else 0.0
        lam[int(bi > uni)] += n
    s = sum(lam) or 1.0
    return lam[0] / s, lam[1] / s


def trigram_table(tag_rows: list[list[str]], index: dict, C: int) -> torch.Tensor:
    """p(c | a, b) (C + 1, C + 1, C + 1), index C the boundary: TnT's interpolation of the trigram, bigram and unigram
    relative frequencies, weights by deleted interpolation over the trigrams (each goes to the estimate that predicts
    it best with that occurrence left out; ties to the lower order)."""
    tri = Counter()
    for ts in tag_rows:
        ids = [C, C] + [index[t] for t in ts] + [C]
        tri.update(zip(ids, ids[1:], ids[2:]))
    bi, uni, ctx2, ctx1 = Counter(), Counter(), Counter(), Counter()
    for (a, b, c), n in tri.items():
        bi[(b, c)] += n
        uni[c] += n
        ctx2[(a, b)] += n
        ctx1[b] += n
    N, lam = sum(uni.values()), [0.0, 0.0, 0.0]
    for (a, b, c), n in tri.items():
        est = [(uni[c] - 1) / (N - 1) if N > 1 else 0.0, (bi[(b, c)] - 1) / (ctx1[b] - 1) if ctx1[b] > 1 else 0.0,
               (n - 1) / (ctx2[(a, b)] - 1) if ctx2[(a, b)] > 1 else 0.0]
        lam[max(range(3), key=lambda i: (est[i], -i))] += n
    lam = [x / sum(lam) for x in lam]
    p1 = torch.zeros(C + 1, dtype=torch.float64)
    p2 = torch.zeros(C + 1, C + 1, dtype=torch.float64)
    p3 = torch.zeros(C + 1, C + 1, C + 1, dtype=torch.float64)
    for c, n in uni.items():
        p1[c] = n / N
    for (b, c), n in bi.items():
        p2[b, c] = n / ctx1[b]
    for (a, b, c), n in tri.items():
        p3[a, b, c] = n / ctx2[(a, b)]
    p = lam[2] * p3 + lam[1] * p2[None] + lam[0] * p1[None, None]
    p[C, C, C] = 0.0  # an empty sentence is not a sentence
    return p / p.sum(-1, keepdim=True)


def _log(p: torch.Tensor) -> torch.Tensor:
    return torch.where(p > 0, p.clamp(min=1e-300).log(), torch.full_like(p, NEG))


def fit_hmm(sentences: list[list[str]], tag_rows: list[list[str]], tags: list[str], tokenizer,
            config: SeqGanHmmTaggerConfig) -> SeqGanHmmTagger:
    """Estimate every table from tagged sentences (raw word forms) by counting. `tokenizer` is the pos word table:
    its ids index the emissions, and [UNK] marks the words the suffix model handles."""
    C, index = len(tags), {t: i for i, t in enumerate(tags)}
    L = config.suffix_length
    # Transitions with the sentence boundary as state C (row: from <s>, column: to </s>).
    uni, bi = Counter(), Counter()
    for ts in tag_rows:
        ids = [C] + [index[t] for t in ts] + [C]
        uni.update(ids)
        bi.update(zip(ids[:-1], ids[1:]))
    n_tags = sum(v for k, v in uni.items() if k != C)
    lam_u, lam_b = deleted_interpolation(bi, uni, sum(uni.values()))
    p_uni = torch.tensor([uni[k] for k in range(C + 1)], dtype=torch.float64) / sum(uni.values())  # (C + 1,)
    counts = torch.zeros(C + 1, C + 1, dtype=torch.float64)
    for (a, b), n in bi.items():
        counts[a, b] = n
    trans = lam_b * counts / counts.sum(1, keepdim=True).clamp(min=1) + lam_u * p_uni[None]  # (C + 1, C + 1)
    trans[:, C][C] = 0.0  # an empty sentence is not a sentence
    trans = trans / trans.sum(1, keepdim=True)
    log_tag = _log(p_uni[:C] * sum(uni.values()) / n_tags)  # p(t) over word positions

    trigram = trigram_table(tag_rows, index, C) if config.order == 3 else None

    # Suffix model from rare words (raw forms), one table for capitalised words and one for the rest.
    word_counts = Counter(w for s in sentences for w in s)
    total_words = sum(word_counts.values())
    suffix = defaultdict(lambda: torch.zeros(C, dtype=torch.float64))
    for s, ts in zip(sentences, tag_rows):
        for w, t in zip(s, ts):
            if word_counts[w] <= config.rare_max:
                raw, cap = w.encode("utf-8"), int(w[:1].isupper())
                for n in range(0, min(len(raw), L) + 1):
                    suffix[(cap, raw[len(raw) - n:])][index[t]] += 1
    p_tag = log_tag.exp()
    theta = float(p_tag.std())  # TnT: the standard deviation of the unconditional tag probabilities
    # shorter suffixes first: each builds on the one before
    keys = sorted(suffix, key=lambda k: (k[0], len(k[1]), k[1]))
    smoothed = {}
    for cap, sfx in keys:
        mle = suffix[(cap, sfx)] / suffix[(cap, sfx)].sum()
        smoothed[(cap, sfx)] = mle if not sfx else (mle + theta * smoothed[(cap, sfx[1:])]) / (1 + theta)
    config.num_suffixes = len(keys)
    model = SeqGanHmmTagger(config)
    with torch.no_grad():
        model.log_trans.copy_(_log(trans[:C, :C]))
        model.log_start.copy_(_log(trans[C, :C]))
        model.log_end.copy_(_log(trans[:C, C]))
        model.log_tag.copy_(log_tag)
        if trigram is not None:
            model.log_trans3.copy_(_log(trigram))
        model.log_unseen_word.fill_(math.log(max(sum(1 for n in word_counts.values() if n == 1), 1) / total_words))
        for i, (cap, sfx) in enumerate(keys):
            model.suffix_bytes[i, L - len(sfx):] = torch.tensor(list(sfx), dtype=torch.float32) if sfx else 0
            model.suffix_cap[i] = cap
            model.suffix_logp[i] = _log(smoothed[(cap, sfx)])
        model._lookup = None
        # Words of the word table: tag counts by table id (the table normalises case and digits).
        by_id = defaultdict(lambda: torch.zeros(C, dtype=torch.float64))
        form = {}
        for s, ts in zip(sentences, tag_rows):
            for w, i, t in zip(s, encode_words(tokenizer, s), ts):
                if i != tokenizer.unk_token_id:
                    by_id[i][index[t]] += 1
                    form.setdefault(i, w)
        emit = torch.full((config.word_vocab_size, C), NEG, dtype=torch.float64)
        k = config.smoothing
        for i, c in by_id.items():
            prior = model.unknown_logp(form[i]).double().exp()
            p_t = (c + k * prior) / (c.sum() + k)  # p(t | x), smoothed toward the suffix model
            emit[i] = _log(p_t) + math.log(c.sum() / total_words) - log_tag
        model.log_emit.copy_(emit)
    return model
