"""G + D trained together for POS: an energy D over whole tag sequences, and an inference network G trained to output
its argmax (a structured prediction energy network with inference networks: Tu & Gimpel 2018; Tu, Pang & Gimpel 2020;
Tu, Liu & Gimpel 2020).

    model = SeqGanEnergyTagger(SeqGanEnergyTaggerConfig(energy_terms=["label_lm", "conv"], ...))
    u = model.emissions(word_ids, char_ids, mask)          # (B, T, C) D's unary scores
    s = model.score(u, y, mask)                            # (B,) s(x, y) = -E(x, y); y (B, T, C) relaxed or one-hot
    test_logits, cost_logits = model.infer(word_ids, char_ids, mask)   # (B, T, C) each: A(x) and F(x), one pass
    gen = EnergyTaggerGenerator(model)                     # greedy decoding: the argmax of A(x) at every position
    loss = energy_loss(gen, batch)                         # --method energy's joint objective (below)

D's score of a tag sequence y (one-hot, or a distribution per position) is
    s(x, y) = sum_t u(x)_t . y_t + sum_t y_{t-1}^T A y_t + start . y_0 + end . y_{L-1}  +  sum_k w_k g_k(y)
The first part is the CRF's (seqgan/models/crf_tagger.py), over an encoder of the same kind: on a one-hot y it is
exactly LinearChainCRF.score. The g_k are global terms chosen by --energy_terms, from ENERGY_TERMS; no Viterbi can
search them, which is why G does the search:
- label_lm: a label language model over the whole tag sequence, sum_t y_t . log p_LM(. | y_<t) + log p_LM(end | y),
            read through relaxed tags (Tu, Liu & Gimpel 2020's "TLM" energy);
- conv:     a convolution over windows of tags, sum_t v . relu(W [y_{t-h}; ...; y_{t+h}]) (their local CNN energy).
Each w_k starts at 0, so an untrained D is exactly a CRF; the data decide how much each term matters.

G is the inference network A(x): its own encoder (same kind as D's) and a linear head, a distribution over tags per
position in one forward pass (non-autoregressive). Beside it, the cost-augmented network F(x) approximates
argmax_y [s(x, y) + Hamming(y, y*)] for the hinge. F shares A's encoder and has its own head (parameters shared, as
Tu, Pang & Gimpel 2020 allow): one encoder pass serves both. F reads the encoder's states without moving them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call
from transformers import AutoConfig, AutoModel, PreTrainedModel

from seqgan.models.crf import LinearChainCRF
from seqgan.models.generator import Samples
from seqgan.models.tagger import SeqGanTaggerConfig, TagSequenceGenerator, encode_sentence, sentence_encoder, subwords
from seqgan.parallel import global_mean


class SeqGanEnergyTaggerConfig(SeqGanTaggerConfig):
    model_type = "seqgan_energy_tagger"  # the tagger's fields; decoder_layers and prev_tag_dropout are unused

    def __init__(self, energy_terms: list[str] | None = None, tag_dim: int = 64, term_filters: int = 64,
                 conv_width: int = 3, **kwargs):
        self.energy_terms = list(energy_terms or [])  # keys of ENERGY_TERMS; empty: the first-order energy alone
        self.tag_dim, self.term_filters, self.conv_width = tag_dim, term_filters, conv_width
        super().__init__(**kwargs)


class LabelLM(nn.Module):
    """g(y) = sum_t y_t . log p(. | y_<t) + log p(end | y_<L): an LSTM language model over (relaxed) tags."""

    def __init__(self, config: SeqGanEnergyTaggerConfig):
        super().__init__()
        C, d = len(config.tags), config.tag_dim
        self.embed = nn.Parameter(torch.randn(C + 1, d) * 0.1)  # C tags, then the start symbol
        self.lstm = nn.LSTM(d, d, batch_first=True)
        self.out = nn.Linear(d, C + 1)  # C tags, then the end symbol

    def forward(self, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, T, C = y.shape
        bos = F.one_hot(torch.full((B, 1), C, device=y.device), C + 1).to(y.dtype)  # (B, 1, C + 1)
        inputs = torch.cat([bos, F.pad(y, (0, 1))], 1) @ self.embed  # (B, T + 1, d): start, y_0 .. y_{T-1}
        logp = F.log_softmax(self.out(self.lstm(inputs)[0]), -1)  # (B, T + 1, C + 1); causal: padding never leaks
        tags = ((y * logp[:, :T, :C]).sum(-1) * mask).sum(1)  # (B,)
        end = logp[torch.arange(B, device=y.device), mask.sum(1), C]  # (B,): log p(end | y_0 .. y_{L-1})
        return tags + end


class TagConv(nn.Module):
    """g(y) = sum_t v . relu(W [y_{t-h}; ...; y_{t+h}] + b) over real positions: scores windows of tags."""

    def __init__(self, config: SeqGanEnergyTaggerConfig):
        super().__init__()
        if config.conv_width % 2 == 0:
            raise ValueError(f"the conv energy's window is centred on each tag: conv_width must be odd, got "
                             f"{config.conv_width}.")
        self.conv = nn.Conv1d(len(config.tags), config.term_filters, config.conv_width, padding=config.conv_width // 2)
        self.out = nn.Linear(config.term_filters, 1, bias=False)

    def forward(self, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv(y.transpose(1, 2))).transpose(1, 2)  # (B, T, filters); y is zero at padding
        return (self.out(h).squeeze(-1) * mask).sum(1)  # (B,)


# --energy_terms: the global terms of D's energy, by name (config -> module scoring (y, mask) -> (B,)).
ENERGY_TERMS = {"label_lm": LabelLM, "conv": TagConv}


class InferenceNetwork(nn.Module):
    """A(x) and F(x): one sentence encoder (the taggers' kind), two linear heads over tags."""

    def __init__(self, config: SeqGanEnergyTaggerConfig):
        super().__init__()
        self.config = config  # encode_sentence reads the encoder's settings from here
        self.encoder, self.chars, self.char_proj = sentence_encoder(config)
        self.head = nn.Linear(config.hidden_size, len(config.tags))       # A: the test-time network
        self.cost_head = nn.Linear(config.hidden_size, len(config.tags))  # F: the cost-augmented network


def _fp32(t: torch.Tensor) -> torch.Tensor:
    """Scores in at least float32 (mixed precision computes the networks in bf16; float64 stays, for the tests)."""
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t


class SeqGanEnergyTagger(PreTrainedModel):
    config_class = SeqGanEnergyTaggerConfig
    base_model_prefix = "energy_tagger"

    def __init__(self, config: SeqGanEnergyTaggerConfig):
        super().__init__(config)
        unknown = sorted(set(config.energy_terms) - set(ENERGY_TERMS))
        if unknown:
            raise ValueError(f"unknown energy term(s) {', '.join(unknown)}; choose from {', '.join(ENERGY_TERMS)}.")
        C = len(config.tags)
        # D: the CRF's parts (same names as SeqGanCrfTagger's) and the global terms with their weights.
        self.encoder, self.chars, self.char_proj = sentence_encoder(config)
        self.emit = nn.Linear(config.hidden_size, C)
        self.transitions = nn.Parameter(torch.zeros(C, C))
        self.start = nn.Parameter(torch.zeros(C))
        self.end = nn.Parameter(torch.zeros(C))
        self.terms = nn.ModuleDict({name: ENERGY_TERMS[name](config) for name in config.energy_terms})
        self.term_weights = nn.Parameter(torch.zeros(len(config.energy_terms)))  # 0: D starts as the CRF
        # G: the inference networks.
        self.infnet = InferenceNetwork(config)
        self.post_init()

    def emissions(self, word_ids, char_ids, mask, sub=None) -> torch.Tensor:
        return _fp32(self.emit(encode_sentence(self, word_ids, char_ids, mask, sub)))  # (B, T, C)

    def infer(self, word_ids, char_ids, mask, sub=None) -> tuple[torch.Tensor, torch.Tensor]:
        h = encode_sentence(self.infnet, word_ids, char_ids, mask, sub)  # (B, T, d)
        # F reads the states detached: its ascent must not move the encoder A decodes from (energy_loss says why).
        return _fp32(self.infnet.head(h)), _fp32(self.infnet.cost_head(h.detach()))  # (B, T, C) each

    def first_order(self, u: torch.Tensor, mask: torch.Tensor) -> LinearChainCRF:
        """The first-order part of D as a CRF (its Viterbi: the argmax when there are no global terms)."""
        return LinearChainCRF(u, _fp32(self.transitions), _fp32(self.start), _fp32(self.end), mask)

    def score(self, u: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, frozen: bool = False) -> torch.Tensor:
        """s(x, y) per sentence (B,) for D's unary scores u (B, T, C) and y: tag ids (B, T) or a distribution per
        position (B, T, C). frozen=True scores with D's parameters detached: gradients reach y (and u) only."""
        if y.dim() == 2:
            y = F.one_hot(y.masked_fill(~mask, 0), u.shape[-1]).to(u.dtype)  # (B, T, C)
        y = y * mask[..., None]  # (B, T, C): nothing at padding
        trans, start, end = _fp32(self.transitions), _fp32(self.start), _fp32(self.end)
        if frozen:
            trans, start, end = trans.detach(), start.detach(), end.detach()
        b = torch.arange(y.shape[0], device=y.device)
        s = (u * y).sum((1, 2)) + y[:, 0] @ start + y[b, mask.sum(1) - 1] @ end  # (B,)
        s = s + ((y[:, :-1] @ trans) * y[:, 1:]).sum((1, 2))  # y_{t-1}^T A y_t; zero where y_t is padding
        weights = self.term_weights.detach() if frozen else self.term_weights
        for k, (name, term) in enumerate(self.terms.items()):
            if frozen:
                g = functional_call(term, {n: p.detach() for n, p in term.named_parameters()}, (y, mask))
            else:
                g = term(y, mask)
            s = s + weights[k] * g
        return s


AutoConfig.register(SeqGanEnergyTaggerConfig.model_type, SeqGanEnergyTaggerConfig)
AutoModel.register(SeqGanEnergyTaggerConfig, SeqGanEnergyTagger)


class EnergyTaggerGenerator(TagSequenceGenerator):
    """The inference network as a generator: tags are independent given x, so greedy decoding is the per-position
    argmax, sampling draws each position on its own, and teacher-forced log-probs ignore the previous tags."""

    def forward(self, batch: dict) -> torch.Tensor:
        m = self.model
        return m.infer(batch["word_ids"], batch["char_ids"], batch["mask"], subwords(batch))[0]  # (B, T, C)

    def sample(self, batch: dict | None = None, num_samples: int | None = None, temperature: float = 1.0,
               greedy: bool = False, rng: torch.Generator | None = None, return_logits: bool = False,
               gumbel: bool = False, global_rows=None) -> Samples:
        if batch is None or (num_samples is not None and num_samples != batch["mask"].shape[0]):
            raise ValueError("the energy tagger is conditional: sample(batch) draws one tag sequence per sentence.")
        if gumbel or global_rows is not None:
            raise ValueError("the energy tagger's G is trained against its own energy (--method energy); it does not "
                             "serve as a GAN generator (gumbel=, global_rows=).")
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}; use greedy=True for argmax decoding.")
        mask = batch["mask"]
        logp = F.log_softmax(self(batch) / temperature, -1)  # (B, T, C)
        if greedy:
            tags = logp.argmax(-1)
        else:
            B, T, C = logp.shape
            tags = torch.multinomial(logp.exp().reshape(B * T, C), 1, generator=rng).view(B, T)  # (B, T)
        lp = logp.gather(2, tags[..., None]).squeeze(2)
        return Samples(tokens=tags.masked_fill(~mask, self.pad_id),
                       logprobs=torch.where(mask, lp, torch.zeros_like(lp)), mask=mask,
                       logits=logp if return_logits else None)

    @torch.no_grad()
    def search_error(self, batch: dict) -> torch.Tensor:
        """G's search against Viterbi on D's first-order part, per sentence (B, 3): [G's first-order score falls
        short of the Viterbi path's (1/0), Viterbi's score minus G's, positions where the two paths differ]. With
        no global terms (--energy_terms none) Viterbi is D's exact argmax, so this is G's search error."""
        m, mask = self.model, batch["mask"]
        u = m.emissions(batch["word_ids"], batch["char_ids"], mask, subwords(batch))
        crf = m.first_order(u, mask)
        mine = self.sample(batch, greedy=True).tokens
        gap = crf.max - crf.score(mine.masked_fill(~mask, 0))  # (B,) >= 0 up to rounding
        differ = ((crf.argmax != mine) & mask).sum(1)
        return torch.stack([(gap > 1e-4).double(), gap.double(), differ.double()], 1)


class _ReverseGradient(torch.autograd.Function):
    """Identity forward, negated gradient backward: the players on either side of it take opposite directions."""

    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -grad


def energy_parts(gen: EnergyTaggerGenerator, batch: dict) -> dict[str, torch.Tensor]:
    """The sums energy_loss combines, over a batch's sentences: the hinge (D against F), A's frozen score, and the two
    networks' cross-entropies against the gold tags."""
    m, mask, gold = gen.model, batch["mask"], batch["labels"]
    x = (batch["word_ids"], batch["char_ids"], mask)
    sub = subwords(batch)
    u = m.emissions(*x, sub)  # (B, T, C)
    test_logits, cost_logits = m.infer(*x, sub)  # (B, T, C) each
    gold_hot = F.one_hot(gold.masked_fill(~mask, 0), u.shape[-1]).to(u.dtype) * mask[..., None]  # (B, T, C)
    f = _ReverseGradient.apply(torch.softmax(cost_logits, -1))  # (B, T, C)
    hamming = ((1.0 - (f * gold_hot).sum(-1)) * mask).sum(1)  # (B,): the relaxed Hamming cost of F's output
    hinge = F.relu(hamming + m.score(u, f, mask) - m.score(u, gold_hot, mask))  # (B,)
    a_score = m.score(u.detach(), torch.softmax(test_logits, -1), mask, frozen=True)  # (B,)
    crf_nll = -m.first_order(u, mask).log_prob(gold.masked_fill(~mask, 0)).sum()
    ce_a, ce_f = (F.cross_entropy(lg[mask], gold[mask], reduction="sum") for lg in (test_logits, cost_logits))
    return {"hinge": hinge.sum(), "crf_nll": crf_nll, "a_score": a_score.sum(), "ce_a": ce_a, "ce_f": ce_f}


@dataclass(frozen=True)
class EnergyWeights:
    ce: float = 1.0  # --energy_ce_weight: the inference networks' cross-entropy against the gold tags
    g: float = 1.0   # --energy_g_weight: A's energy term (0: A by cross-entropy alone, the control)


def energy_loss(gen: EnergyTaggerGenerator, batch: dict, ctx: EnergyWeights | None = None) -> torch.Tensor:
    """--method energy: one objective whose single backward pass updates both players (per token, global mean):

        sum_i -log p_CRF(y_i | x_i)                                            D's first-order part: the CRF likelihood
      + sum_i [ Hamming(F(x_i), y_i) + s(x_i, F(x_i)) - s(x_i, y_i) ]_+      D minimises it, F maximises it
      - g_weight * sum_i s_frozen(x_i, A(x_i))                                 A maximises D's score of its output
      + ce_weight * sum_i [ CE(A(x_i), y_i) + CE(F(x_i), y_i) ]                keeps A and F near the gold tags

    The hinge is the structured SVM's margin-rescaled hinge with F in the role of cost-augmented inference (Tu &
    Gimpel 2018). F's ascent is a reversed gradient: one optimiser step moves D down and F up the same loss
    (simultaneous gradient descent-ascent), so the method runs in the resumable supervised loop unchanged. F reads
    A's encoder states detached: a shared encoder pushed away from the gold by F's ascent dragged A's accuracy down
    (dev UPOS 0.31 against 0.65 after 200 steps on 1,000 sentences). The hinge over F's relaxed outputs alone never
    taught D's first-order part to rank tags (its Viterbi stayed below 0.22 dev UPOS): a relaxed output near uniform
    is beaten by a small margin per word. The CRF likelihood teaches that part against every sequence at once, and
    the hinge leaves the global terms to learn from F's outputs. A's term reads D frozen (its gradient reaches A
    only): A learns D's argmax, D does not learn to flatter A. ctx: the two weights (EnergyWeights)."""
    p = energy_parts(gen, batch)
    w = ctx or EnergyWeights()
    total = p["crf_nll"] + p["hinge"] - w.g * p["a_score"] + w.ce * (p["ce_a"] + p["ce_f"])
    return global_mean(total, batch["mask"].sum())
