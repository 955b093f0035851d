"""The discriminator-only structured baseline for POS: a linear-chain CRF over the tagger's sentence encoder.

    model = SeqGanCrfTagger(SeqGanCrfTaggerConfig(...))
    dist = model.crf(word_ids, char_ids, mask)        # seqgan.models.crf.LinearChainCRF over the sentence
    gen = CrfTaggerGenerator(model)                   # the Generator interface: Viterbi, exact samples, exact NLL
    loss = CRF_LOSSES["hinge"](model, batch, ctx)     # --crf_loss nll | perceptron | hinge | gen_negatives

Score s(x, y) = sum_t u(x)_t[y_t] + sum_t A[y_{t-1}, y_t] + start[y_0] + end[y_{L-1}]: emissions u come
from the same encoder as the generator's (word table + byte CNN -> BertModel or BiLSTM, --sentence_encoder), A is
a learned tag-transition matrix. Decoding is Viterbi, the exact argmax over all tag sequences,
which the Markov (first-order) structure of s makes tractable. Training needs negatives:
- nll:           all sequences, weighted through the partition function (CRF likelihood);
- perceptron:    the model's own Viterbi output (the structured perceptron's iterative procedure;
                 --average_weights evaluates a moving average of the weights, as the averaged perceptron does);
- hinge:         max-margin: Viterbi on scores augmented with a Hamming cost (cost-augmented decoding);
- gen_negatives: K tag sequences sampled from a trained generator (--negatives_from), scored in a
                 softmax against the gold sequence: G supplies the negatives D needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import AutoConfig, AutoModel, PreTrainedModel

from seqgan.models.crf import LinearChainCRF
from seqgan.models.generator import Generator, Samples
from seqgan.models.tagger import SeqGanTaggerConfig, TagSequenceGenerator, encode_sentence, sentence_encoder, subwords
from seqgan.parallel import global_mean


class SeqGanCrfTaggerConfig(SeqGanTaggerConfig):
    model_type = "seqgan_crf_tagger"  # the tagger's fields; decoder_layers and prev_tag_dropout are unused


class SeqGanCrfTagger(PreTrainedModel):
    config_class = SeqGanCrfTaggerConfig
    base_model_prefix = "crf_tagger"

    def __init__(self, config: SeqGanCrfTaggerConfig):
        super().__init__(config)
        C = len(config.tags)
        self.encoder, self.chars, self.char_proj = sentence_encoder(config)
        self.emit = nn.Linear(config.hidden_size, C)
        self.transitions = nn.Parameter(torch.zeros(C, C))  # neutral: the emissions decide until data says otherwise
        self.start = nn.Parameter(torch.zeros(C))
        self.end = nn.Parameter(torch.zeros(C))
        self.post_init()

    def emissions(self, word_ids, char_ids, mask, sub=None) -> torch.Tensor:
        return self.emit(encode_sentence(self, word_ids, char_ids, mask, sub))  # (B, T, C)

    def crf(self, word_ids, char_ids, mask, temperature: float = 1.0, sub=None) -> LinearChainCRF:
        em = self.emissions(word_ids, char_ids, mask, sub).float()
        return LinearChainCRF(em / temperature, self.transitions / temperature, self.start / temperature,
                              self.end / temperature, mask)

    def forward(self, word_ids, char_ids, mask, sub=None):
        return self.crf(word_ids, char_ids, mask, sub=sub)


AutoConfig.register(SeqGanCrfTaggerConfig.model_type, SeqGanCrfTaggerConfig)
AutoModel.register(SeqGanCrfTaggerConfig, SeqGanCrfTagger)


class CrfTaggerGenerator(TagSequenceGenerator):
    """A CRF tagger seen as a generator: greedy decoding is Viterbi, sampling is exact (forward filtering,
    backward sampling), and teacher-forced "logits" are the CRF's exact chain-rule conditionals."""

    def dist(self, batch, temperature: float = 1.0) -> LinearChainCRF:
        return self.model.crf(batch["word_ids"], batch["char_ids"], batch["mask"], temperature, subwords(batch))

    def forward(self, batch: dict) -> torch.Tensor:
        return self.dist(batch).conditionals(batch["labels"])  # (B, T, C) log p(y_t | y_{t-1}, x)

    def token_logprobs(self, batch: dict, temperature: float = 1.0) -> torch.Tensor:
        # A negative label is a gold tag outside the tag set (pos: never seen in training): it gets no log-prob
        # (seqgan.scoring.metrics.teacher_forced_nll leaves it out), and the tag after it is conditioned on tag 0.
        valid = batch["mask"] & (batch["labels"] >= 0)  # (B, T)
        labels = batch["labels"].masked_fill(~valid, 0)
        cond = self.dist(batch, temperature).conditionals(labels)
        lp = cond.gather(2, labels[..., None]).squeeze(2)
        return torch.where(valid, lp, torch.zeros_like(lp))

    def sample(self, batch: dict | None = None, num_samples: int | None = None, temperature: float = 1.0,
               greedy: bool = False, rng: torch.Generator | None = None, return_logits: bool = False,
               gumbel: bool = False, global_rows=None) -> Samples:
        if global_rows is not None:
            raise ValueError("the CRF tagger draws its samples exactly per sentence; it cannot serve as a "
                             "multi-process GAN generator (global_rows=...).")
        if batch is None or (num_samples is not None and num_samples != batch["mask"].shape[0]):
            raise ValueError("the CRF tagger is conditional: sample(batch) draws one tag sequence per sentence.")
        if gumbel:
            raise ValueError("the CRF tagger samples exactly (forward filtering, backward sampling); it has no Gumbel "
                             "mode.")
        dist = self.dist(batch, temperature)
        tags = dist.argmax if greedy else dist.sample(1, rng)[0]  # (B, T), -1 at padding
        mask = batch["mask"]
        cond = dist.conditionals(tags.clamp(min=0))
        lp = cond.gather(2, tags.clamp(min=0)[..., None]).squeeze(2)
        return Samples(tokens=tags.masked_fill(~mask, self.pad_id),
                       logprobs=torch.where(mask, lp, torch.zeros_like(lp)),
                       mask=mask, logits=cond if return_logits else None)

    def structured_loss(self, batch: dict, kind: str, ctx: "CrfLossContext | None" = None) -> torch.Tensor:
        return CRF_LOSSES[kind](self.model, batch, ctx)


# ----------------------------------------------------------------------------- losses

@dataclass
class CrfLossContext:
    negatives: Generator | None = None        # gen_negatives: the generator that samples negatives
    num_negatives: int = 8
    rng: torch.Generator | None = None       # the negatives' sampling stream


def sentence_crf(model, batch) -> LinearChainCRF:
    """The CRF over a batch's sentences; a pretrained encoder's subwords are passed only when the batch has them."""
    sub = subwords(batch)
    extra = {} if sub is None else {"sub": sub}
    return model.crf(batch["word_ids"], batch["char_ids"], batch["mask"], **extra)


def crf_nll(model, batch, ctx=None) -> torch.Tensor:
    dist = sentence_crf(model, batch)
    return global_mean(-dist.log_prob(batch["labels"]).sum(), batch["mask"].sum())


def crf_perceptron(model, batch, ctx=None) -> torch.Tensor:
    """s(y_hat) - s(y*) with y_hat the current Viterbi output: zero (no update) once the gold wins."""
    dist = sentence_crf(model, batch)
    with torch.no_grad():
        pred = dist.argmax
    return global_mean((dist.score(pred) - dist.score(batch["labels"])).sum(), batch["mask"].sum())


def hamming_augmented(dist: LinearChainCRF, gold: torch.Tensor) -> LinearChainCRF:
    """The same CRF with +1 on every wrong tag at real positions: its argmax maximises s(y) + Hamming(y, y*)."""
    cost = (1.0 - F.one_hot(gold.masked_fill(~dist.mask, 0), dist.C).to(dist.emissions.dtype)) * dist.mask[..., None]
    return LinearChainCRF(dist.emissions + cost, dist.trans, dist.start, dist.end, dist.mask)


def crf_hinge(model, batch, ctx=None) -> torch.Tensor:
    """max(0, max_y [s(y) + Hamming(y, y*)] - s(y*)), per sentence, by cost-augmented Viterbi."""
    dist = sentence_crf(model, batch)
    gold = batch["labels"]
    with torch.no_grad():
        pred = hamming_augmented(dist, gold).argmax
    hamming = ((pred != gold) & batch["mask"]).sum(1).to(dist.emissions.dtype)
    return global_mean(F.relu(dist.score(pred) + hamming - dist.score(gold)).sum(), batch["mask"].sum())


def crf_gen_negatives(model, batch, ctx: CrfLossContext) -> torch.Tensor:
    """-s(y*) + log(exp s(y*) + sum_k exp s(y_k)) over K negatives y_k ~ G(. | x), duplicates of y* dropped."""
    if ctx is None or ctx.negatives is None:
        raise ValueError("--crf_loss gen_negatives needs a generator to sample negatives: --negatives_from CKPT.")
    dist = sentence_crf(model, batch)
    gold, mask = batch["labels"], batch["mask"]
    with torch.no_grad():
        negs = [ctx.negatives.sample(batch, rng=ctx.rng).tokens for _ in range(ctx.num_negatives)]
    scores = [dist.score(gold)]
    for y in negs:
        same = ((y == gold) | ~mask).all(1)  # G reproduced the gold sequence: not a negative
        scores.append(dist.score(y).masked_fill(same, float("-inf")))
    s = torch.stack(scores, 0)  # (K + 1, B)
    return global_mean((torch.logsumexp(s, 0) - s[0]).sum(), mask.sum())


CRF_LOSSES = {"nll": crf_nll, "perceptron": crf_perceptron, "hinge": crf_hinge, "gen_negatives": crf_gen_negatives}
