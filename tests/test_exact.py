"""The exact algorithms against brute-force enumeration of every output, at sizes small enough to list them.

CRF (log Z, log-probabilities, marginals, Viterbi, chain-rule conditionals, exact sampling), the bigram
energy model (log Z, Viterbi, conditionals; fixed-length and [EOS]-terminated), the hinge loss's
Hamming-augmented argmax, the perceptron's updates, and `icdf_sample`'s draw frequencies.
Everything runs in float64 with ragged masks (lengths 1..4) and both shared and per-position transitions.
"""

import itertools

import pytest
import torch
from helpers import chi_square_ok, make_bigram

from seqgan.models.bigram import BigramEnergyModel, BigramGenerator
from seqgan.models.crf import LinearChainCRF
from seqgan.models.crf_tagger import crf_hinge, crf_perceptron, hamming_augmented
from seqgan.models.generator import icdf_sample

C = 3
LENGTHS = [1, 3, 4, 2]  # ragged: batch of 4, padding in three rows


def make_crf(per_position: bool, seed: int = 0, scale: float = 1.0) -> LinearChainCRF:
    g = torch.Generator().manual_seed(seed)
    B, T = len(LENGTHS), max(LENGTHS)
    em = torch.randn(B, T, C, generator=g, dtype=torch.float64) * scale
    trans = torch.randn(*((B, T) if per_position else ()), C, C, generator=g, dtype=torch.float64) * scale
    start, end = (torch.randn(C, generator=g, dtype=torch.float64) for _ in range(2))
    mask = torch.arange(T)[None, :] < torch.tensor(LENGTHS)[:, None]
    return LinearChainCRF(em, trans, start, end, mask)


def brute_score(dist: LinearChainCRF, b: int, y: tuple) -> float:
    """The score of tag sequence y for row b, written out from the CRF's definition."""
    s = dist.start[b, y[0]] + dist.emissions[b, 0, y[0]]
    for t in range(1, len(y)):
        s = s + dist.trans[b, t, y[t - 1], y[t]] + dist.emissions[b, t, y[t]]
    return float(s + dist.end[b, y[-1]])


def enumerate_rows(dist: LinearChainCRF):
    """For each row: (all tag sequences of its length, their exact scores)."""
    out = []
    for b, L in enumerate(LENGTHS):
        seqs = list(itertools.product(range(C), repeat=L))
        out.append((seqs, torch.tensor([brute_score(dist, b, y) for y in seqs], dtype=torch.float64)))
    return out


def padded(dist: LinearChainCRF, b: int, y: tuple) -> torch.Tensor:
    """Row b's sequence y as a full (B, T) tags tensor (other rows: zeros)."""
    tags = torch.zeros(dist.B, dist.T, dtype=torch.long)
    tags[b, : len(y)] = torch.tensor(y)
    return tags


@pytest.mark.parametrize("per_position", [False, True])
def test_crf_partition_probabilities_and_marginals_equal_enumeration(per_position):
    dist = make_crf(per_position)
    for b, (seqs, scores) in enumerate(enumerate_rows(dist)):
        log_z = torch.logsumexp(scores, 0)
        assert torch.allclose(dist.log_partition[b], log_z, atol=1e-10)
        # log_prob of every sequence, through the batched API, sums to one.
        lp = torch.stack([dist.log_prob(padded(dist, b, y))[b] for y in seqs])
        assert torch.allclose(lp, scores - log_z, atol=1e-10)
        assert torch.allclose(lp.exp().sum(), torch.tensor(1.0, dtype=torch.float64), atol=1e-12)
        # Marginals: p(y_t = c) summed over the sequences with that tag there; zero at padding.
        p = (scores - log_z).exp()
        marg = torch.zeros(dist.T, C, dtype=torch.float64)
        for y, py in zip(seqs, p):
            for t, c in enumerate(y):
                marg[t, c] += py
        assert torch.allclose(dist.marginals[b], marg, atol=1e-10)


@pytest.mark.parametrize("per_position", [False, True])
def test_crf_viterbi_is_the_enumerated_argmax(per_position):
    for seed in range(5):
        dist = make_crf(per_position, seed, scale=2.0)
        for b, (seqs, scores) in enumerate(enumerate_rows(dist)):
            best = int(scores.argmax())
            assert dist.argmax[b, : LENGTHS[b]].tolist() == list(seqs[best])
            assert (dist.argmax[b, LENGTHS[b]:] == -1).all()
            assert torch.allclose(dist.max[b], scores[best], atol=1e-10)


@pytest.mark.parametrize("per_position", [False, True])
def test_crf_conditionals_are_the_chain_rule_factors(per_position):
    dist = make_crf(per_position)
    for b, (seqs, scores) in enumerate(enumerate_rows(dist)):
        log_z = torch.logsumexp(scores, 0)
        for y, s in zip(seqs, scores):
            cond = dist.conditionals(padded(dist, b, y))[b]  # (T, C)
            assert torch.allclose(cond[: len(y)].logsumexp(-1), torch.zeros(len(y), dtype=torch.float64), atol=1e-10)
            chain = sum(cond[t, c] for t, c in enumerate(y))
            assert torch.allclose(chain, s - log_z, atol=1e-10)





@pytest.mark.parametrize("per_position", [False, True])
def test_crf_samples_follow_the_exact_distribution(per_position):
    dist = make_crf(per_position)
    n = 20000
    samples = dist.sample(n, torch.Generator().manual_seed(1))  # (n, B, T)
    assert ((samples == -1) == ~dist.mask[None]).all()  # -1 exactly at padding
    for b, (seqs, scores) in enumerate(enumerate_rows(dist)):
        L = LENGTHS[b]
        codes = (samples[:, b, :L] * (C ** torch.arange(L - 1, -1, -1))).sum(1)  # base-C code = index in `seqs`
        counts = torch.bincount(codes, minlength=C ** L).double()
        ok, stat = chi_square_ok(counts, torch.softmax(scores, 0))
        assert ok, f"row {b}: chi-square {stat:.1f} over {C ** L - 1} degrees of freedom"


def test_crf_rejects_bad_masks_and_shapes():
    em = torch.zeros(2, 3, C)
    with pytest.raises(ValueError, match="prefix"):
        LinearChainCRF(em, torch.zeros(C, C), mask=torch.tensor([[True, False, True], [True, True, True]]))
    with pytest.raises(ValueError, match="at least one real position"):
        LinearChainCRF(em, torch.zeros(C, C), mask=torch.tensor([[False] * 3, [True] * 3]))
    with pytest.raises(ValueError, match="transitions must be"):
        LinearChainCRF(em, torch.zeros(C, C + 1))


# ----------------------------------------------------------------------------- structured losses

class FixedCrf(torch.nn.Module):
    """A 'model' whose CRF is given directly, so the structured losses can be checked on enumerable CRFs."""

    def __init__(self, dist: LinearChainCRF):
        super().__init__()
        self.em = torch.nn.Parameter(dist.emissions.clone())
        self.trans = torch.nn.Parameter(dist.trans[0, 0].clone())
        self.start = torch.nn.Parameter(dist.start[0].clone())
        self.end = torch.nn.Parameter(dist.end[0].clone())

    def crf(self, word_ids, char_ids, mask):
        return LinearChainCRF(self.em, self.trans, self.start, self.end, mask)


def test_hamming_augmented_viterbi_is_the_enumerated_cost_augmented_argmax():
    for seed in range(5):
        dist = make_crf(per_position=True, seed=seed)
        gold = dist.sample(1, torch.Generator().manual_seed(seed))[0].clamp(min=0)  # (B, T)
        aug = hamming_augmented(dist, gold)
        for b, (seqs, scores) in enumerate(enumerate_rows(dist)):
            L = LENGTHS[b]
            hamming = torch.tensor([sum(a != g for a, g in zip(y, gold[b, :L].tolist())) for y in seqs],
                                   dtype=torch.float64)
            best = int((scores + hamming).argmax())
            assert aug.argmax[b, :L].tolist() == list(seqs[best])
            assert torch.allclose(aug.max[b], (scores + hamming)[best], atol=1e-10)


def test_hinge_loss_is_the_enumerated_margin_violation():
    dist = make_crf(per_position=False, seed=3)
    model = FixedCrf(dist)
    gold = dist.sample(1, torch.Generator().manual_seed(0))[0].clamp(min=0)
    batch = {"word_ids": None, "char_ids": None, "mask": dist.mask, "labels": gold}
    expected = 0.0
    for b, (seqs, scores) in enumerate(enumerate_rows(dist)):
        y_gold = tuple(gold[b, : LENGTHS[b]].tolist())
        hamming = torch.tensor([sum(a != g for a, g in zip(y, y_gold)) for y in seqs], dtype=torch.float64)
        expected += max(0.0, float((scores + hamming).max()) - float(scores[seqs.index(y_gold)]))
    assert crf_hinge(model, batch).item() == pytest.approx(expected / sum(LENGTHS), abs=1e-10)


def test_perceptron_updates_only_on_wrong_outputs():
    dist = make_crf(per_position=False, seed=4, scale=2.0)
    model = FixedCrf(dist)
    viterbi = dist.argmax.clamp(min=0)
    # Gold = the model's own Viterbi output: the loss is zero and no parameter moves.
    right = {"word_ids": None, "char_ids": None, "mask": dist.mask, "labels": viterbi}
    loss = crf_perceptron(model, right)
    loss.backward()
    assert loss.item() == 0.0 and all(p.grad is None or not p.grad.any() for p in model.parameters())
    # Gold differs from the Viterbi output in one row: a positive loss s(y_hat) - s(y*), gradients only there.
    model.zero_grad()
    wrong = viterbi.clone()
    wrong[2, 1] = (wrong[2, 1] + 1) % C
    loss = crf_perceptron(model, {**right, "labels": wrong})
    loss.backward()
    scores = enumerate_rows(dist)[2][1]
    seqs = enumerate_rows(dist)[2][0]
    margin = float(scores.max() - scores[seqs.index(tuple(wrong[2, : LENGTHS[2]].tolist()))])
    assert loss.item() == pytest.approx(margin / sum(LENGTHS), abs=1e-10) and margin > 0
    assert model.em.grad[2].abs().sum() > 0 and not model.em.grad[[0, 1, 3]].any()


# ----------------------------------------------------------------------------- bigram energy model




def bigram_outputs(eos: bool) -> list[tuple]:
    """Every sequence the model can emit: fixed-length T over allowed tokens, or ..., [EOS] within T positions."""
    if not eos:
        return list(itertools.product([2, 3, 4], repeat=3))
    return [(*body, 4) for L in range(1, 4) for body in itertools.product([2, 3], repeat=L - 1)]


def batch_of(seqs: list[tuple]) -> tuple[torch.Tensor, torch.Tensor]:
    tokens = torch.zeros(len(seqs), 3, dtype=torch.long)
    mask = torch.zeros(len(seqs), 3, dtype=torch.bool)
    for i, s in enumerate(seqs):
        tokens[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = True
    return tokens, mask


@torch.no_grad()
def brute_bigram_score(m: BigramEnergyModel, y: tuple) -> float:
    s = m.start[y[0]] + sum(m.unigram[t] for t in y) + sum(m.transitions[a, b] for a, b in zip(y[:-1], y[1:]))
    return float(s + (m.end[y[-1]] if m.config.eos_id is None else 0.0))


@pytest.mark.parametrize("eos", [False, True])
def test_bigram_partition_viterbi_and_conditionals_equal_enumeration(eos):
    for seed in range(3):
        m = make_bigram(eos, seed)
        seqs = bigram_outputs(eos)
        scores = torch.tensor([brute_bigram_score(m, y) for y in seqs], dtype=torch.float64)
        tokens, mask = batch_of(seqs)
        with torch.no_grad():
            assert torch.allclose(m.score(tokens, mask), scores, atol=1e-10)
            log_z, _ = m.messages()
            assert torch.allclose(log_z, torch.logsumexp(scores, 0), atol=1e-10)
            assert tuple(m.viterbi().tolist()) == seqs[int(scores.argmax())]
            # The Generator view: per-token chain-rule log-probs (its log-softmax runs in float32) sum to the
            # global log-probability.
            chain = BigramGenerator(m).token_logprobs({"labels": tokens, "mask": mask}).sum(1)
            assert torch.allclose(chain.double(), scores - log_z, atol=1e-5)


def test_bigram_samples_follow_the_exact_distribution():
    m = make_bigram(eos=True, seed=1).float()
    seqs = bigram_outputs(eos=True)
    with torch.no_grad():
        scores = torch.tensor([brute_bigram_score(m, y) for y in seqs], dtype=torch.float64)
        s = BigramGenerator(m).sample(num_samples=20000, rng=torch.Generator().manual_seed(0))
    drawn = [tuple(t[k].tolist()) for t, k in zip(s.tokens, s.mask)]
    counts = torch.tensor([drawn.count(y) for y in seqs], dtype=torch.float64)
    assert counts.sum() == 20000  # nothing outside the support
    ok, stat = chi_square_ok(counts, torch.softmax(scores, 0))
    assert ok, f"chi-square {stat:.1f} over {len(seqs) - 1} degrees of freedom"


# ----------------------------------------------------------------------------- icdf_sample

@pytest.mark.parametrize("V,block", [(10, 4), (69, 64), (64, 64), (5, 64)])
def test_icdf_sample_frequencies_match_softmax(V, block):
    g = torch.Generator().manual_seed(V)
    logits = torch.randn(1, V, generator=g) * 2
    logits[0, 1] = float("-inf")  # a zero-probability token in the first block
    logits[0, V - 1] = float("-inf")  # and the very last one (in the short last block when V % block)
    n = 40000
    tokens = icdf_sample(logits.expand(n, V), torch.rand(n, generator=g), block=block)
    counts = torch.bincount(tokens, minlength=V).double()
    probs = torch.softmax(logits[0].double(), 0)
    assert counts[probs == 0].sum() == 0
    ok, stat = chi_square_ok(counts[probs > 0], probs[probs > 0])
    assert ok, f"chi-square {stat:.1f}"
    # (M, K) uniforms: each row draws K tokens from its own distribution.
    two = icdf_sample(torch.stack([logits[0], logits[0].flip(0)]), torch.rand(2, 5, generator=g), block=block)
    assert two.shape == (2, 5)


def test_icdf_sample_never_draws_a_zero_probability_token():
    """At every u, including 0, the largest float below 1 and the CDF's block boundaries, whatever the rounding
    of float32 block sums against float64 running sums."""
    g = torch.Generator().manual_seed(0)
    V, block = 300, 64
    u = torch.cat([torch.tensor([0.0, 1e-300, 0.5, 1 - 2 ** -24, 1 - 2 ** -53], dtype=torch.float64),
                   torch.rand(2000, generator=g, dtype=torch.float64)])
    for trial in range(40):
        logits = torch.randn(1, V, generator=g) * (1 + trial % 7) * 3
        dead = torch.rand(V, generator=g) < 0.5
        dead[-(trial % 100) - 1:] = True  # zero mass at the end: the last blocks may be empty
        dead[trial % 150] = False  # at least one live token
        logits[0, dead] = float("-inf")
        # Plus u exactly at the running block boundaries, where float rounding decides.
        p = torch.softmax(logits[0].double(), 0)
        edges = p.cumsum(0)[block - 1::block]
        tok = icdf_sample(logits.expand(len(u) + len(edges), V), torch.cat([u, edges.clamp(max=1 - 2 ** -53)]),
                          block=block)
        assert not dead[tok].any(), f"trial {trial}: drew a zero-probability token"
