"""--method energy (seqgan/models/energy_tagger.py): the energy against brute-force enumeration and its CRF, gradients
through relaxed outputs against finite differences in float64, and the options it refuses."""

import itertools

import pytest
import torch
import torch.nn.functional as F

from seqgan.models.crf_tagger import hamming_augmented
from seqgan.models.energy_tagger import (
    EnergyTaggerGenerator,
    EnergyWeights,
    SeqGanEnergyTagger,
    SeqGanEnergyTaggerConfig,
    energy_loss,
    energy_parts,
)
from seqgan.tasks import parse_args

TAGS = ["NOUN", "VERB", "DET"]  # 3 tags: every sequence of length <= 4 can be enumerated


def tiny(terms=("label_lm", "conv"), dtype=torch.float64, seed=0) -> SeqGanEnergyTagger:
    torch.manual_seed(seed)
    cfg = SeqGanEnergyTaggerConfig(word_vocab_size=12, tags=TAGS, hidden_size=8, num_layers=1, dropout=0.0,
                                   word_dropout=0.0, char_dim=4, char_filters=4, sentence_encoder="lstm", tag_dim=5,
                                   term_filters=6, energy_terms=list(terms))
    model = SeqGanEnergyTagger(cfg).to(dtype).eval()
    with torch.no_grad():  # away from the all-zero start, so every term and the CRF's parts matter
        for p in (model.transitions, model.start, model.end, model.term_weights):
            p.normal_()
    return model


def ragged_batch(lengths=(4, 1, 3, 2), seed=1) -> dict:
    g = torch.Generator().manual_seed(seed)
    B, T = len(lengths), max(lengths)
    mask = torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]  # (B, T)
    return {"word_ids": torch.randint(1, 12, (B, T), generator=g) * mask,
            "char_ids": torch.randint(1, 200, (B, T, 6), generator=g) * mask[..., None],
            "labels": torch.randint(0, len(TAGS), (B, T), generator=g) * mask, "mask": mask}


def brute_score(model, u_row: torch.Tensor, y: list[int]) -> torch.Tensor:
    """s(x, y) of one unpadded sentence, term by term with plain loops (no batching, no masks)."""
    C = len(TAGS)
    A, st, en = model.transitions, model.start, model.end
    s = st[y[0]] + en[y[-1]] + sum(u_row[t, y[t]] for t in range(len(y)))
    s = s + sum(A[y[t - 1], y[t]] for t in range(1, len(y)))
    for k, (name, term) in enumerate(model.terms.items()):
        if name == "label_lm":  # the LSTM fed start, y_0, ... one symbol at a time
            state, g, prev = None, 0.0, C
            for t in range(len(y) + 1):
                out, state = term.lstm(term.embed[prev][None, None], state)
                logp = F.log_softmax(term.out(out[0, 0]), -1)
                g = g + (logp[y[t]] if t < len(y) else logp[C])
                prev = y[t] if t < len(y) else None
        else:  # conv: the window around each tag, zeros beyond the sentence's ends
            h = len(term.conv.weight[0, 0]) // 2
            onehot = F.one_hot(torch.tensor(y), C).to(u_row.dtype)
            padded = torch.cat([torch.zeros(h, C, dtype=u_row.dtype), onehot, torch.zeros(h, C, dtype=u_row.dtype)])
            g = 0.0
            for t in range(len(y)):
                window = padded[t:t + 2 * h + 1]  # (w, C)
                act = torch.relu((term.conv.weight * window.T[None]).sum((1, 2)) + term.conv.bias)
                g = g + term.out(act)[0]
        s = s + model.term_weights[k] * g
    return s


def test_one_hot_scores_equal_the_crf_and_term_by_term_loops_on_ragged_batches():
    model, batch = tiny(), ragged_batch()
    mask, tags = batch["mask"], batch["labels"]
    u = model.emissions(batch["word_ids"], batch["char_ids"], mask)
    s = model.score(u, tags, mask)
    relaxed = model.score(u, F.one_hot(tags, 3).double(), mask)
    torch.testing.assert_close(s, relaxed)
    for b in range(len(s)):
        L = int(mask[b].sum())
        torch.testing.assert_close(s[b], brute_score(model, u[b, :L], tags[b, :L].tolist()))
    # With no global terms the energy is the CRF's score, exactly.
    first = tiny(terms=())
    u = first.emissions(batch["word_ids"], batch["char_ids"], mask)
    torch.testing.assert_close(first.score(u, tags, mask), first.first_order(u, mask).score(tags))


@pytest.mark.parametrize("terms", [(), ("label_lm", "conv")])
def test_hinge_over_every_sequence_equals_brute_force_and_cost_augmented_viterbi(terms):
    """max over every one-hot y of [Hamming(y, y*) + s(y) - s(y*)]_+, the hinge the cost-augmented network F
    approximates, against plain loops over all 3^L sequences; for the first-order energy also against the CRF's
    cost-augmented Viterbi (seqgan.models.crf_tagger.hamming_augmented)."""
    model, batch = tiny(terms), ragged_batch()
    mask, gold = batch["mask"], batch["labels"]
    u = model.emissions(batch["word_ids"], batch["char_ids"], mask)
    B, T = mask.shape
    for b in range(B):
        L = int(mask[b].sum())
        gold_b = gold[b, :L].tolist()
        brute = max(sum(a != g for a, g in zip(y, gold_b)) + brute_score(model, u[b, :L], list(y))
                    for y in itertools.product(range(3), repeat=L)) - brute_score(model, u[b, :L], gold_b)
        ys = torch.tensor(list(itertools.product(range(3), repeat=L)))  # (3^L, L): every sequence, batched
        n = len(ys)
        ys_full = torch.cat([ys, torch.zeros(n, T - L, dtype=torch.long)], 1)  # (3^L, T)
        rows = mask[b:b + 1].expand(n, -1)
        s_all = model.score(u[b:b + 1].expand(n, -1, -1), ys_full, rows)  # (3^L,)
        hamming = (ys != gold[b, :L]).sum(1).double()
        batched = (hamming + s_all).max() - model.score(u[b:b + 1], gold[b:b + 1], mask[b:b + 1])[0]
        torch.testing.assert_close(batched, brute)
        if not terms:
            crf = hamming_augmented(model.first_order(u[b:b + 1], mask[b:b + 1]), gold[b:b + 1])
            torch.testing.assert_close(crf.max[0] - model.score(u[b:b + 1], gold[b:b + 1], mask[b:b + 1])[0], brute)


def test_gradients_through_relaxed_outputs_match_finite_differences():
    model, batch = tiny(), ragged_batch()
    mask = batch["mask"]
    u = model.emissions(batch["word_ids"], batch["char_ids"], mask).detach()
    logits = torch.randn(*mask.shape, 3, dtype=torch.float64, requires_grad=True)
    # s(x, softmax(logits)): the relaxed output's gradient, through every term, against central differences.
    assert torch.autograd.gradcheck(lambda z: model.score(u, torch.softmax(z, -1), mask), (logits,))
    assert torch.autograd.gradcheck(lambda z: model.score(u, torch.softmax(z, -1), mask, frozen=True), (logits,))


def finite_difference(f, p: torch.Tensor, i: int, eps: float = 1e-6) -> float:
    flat = p.data.view(-1)
    old = flat[i].item()
    flat[i] = old + eps
    hi = f().item()
    flat[i] = old - eps
    lo = f().item()
    flat[i] = old
    return (hi - lo) / (2 * eps)


def test_each_player_gets_the_gradient_of_its_own_objective():
    """One backward pass of energy_loss: D descends (CRF NLL + hinge), F ascends the hinge (its reversed gradient)
    and descends its CE, A ascends D's frozen score of its output and descends its CE; checked entry by entry against
    finite differences of each player's objective, in float64."""
    model, batch = tiny(), ragged_batch()
    gen = EnergyTaggerGenerator(model)
    n = batch["mask"].sum()
    model.zero_grad()
    energy_loss(gen, batch, EnergyWeights(ce=0.5, g=2.0)).backward()

    def part(expr):
        def f():
            with torch.no_grad():
                p = energy_parts(gen, batch)
            return expr(p) / n
        return f

    players = [(model.emit.weight, part(lambda p: p["crf_nll"] + p["hinge"])),  # D's unary terms
               (model.terms["label_lm"].out.weight, part(lambda p: p["crf_nll"] + p["hinge"])),  # D's global term
               (model.infnet.cost_head.weight, part(lambda p: -p["hinge"] + 0.5 * p["ce_f"])),  # F
               (model.infnet.head.weight, part(lambda p: -2.0 * p["a_score"] + 0.5 * p["ce_a"]))]  # A
    for param, objective in players:
        for i in (0, 5, 11):
            assert param.grad.view(-1)[i].item() == pytest.approx(finite_difference(objective, param, i), abs=1e-6)


def test_greedy_decoding_is_the_per_position_argmax_and_search_error_is_zero_for_viterbi():
    model, batch = tiny(terms=()), ragged_batch()
    gen = EnergyTaggerGenerator(model)
    out = gen.sample(batch, greedy=True)
    logits = gen(batch)
    assert torch.equal(out.tokens[batch["mask"]], logits.argmax(-1)[batch["mask"]])
    err = gen.search_error(batch)  # (B, 3): below Viterbi, gap, positions differing
    assert (err[:, 1] >= -1e-9).all()  # Viterbi is the exact argmax of the first-order energy
    # Make A output the Viterbi path itself: no search error left.
    u = model.emissions(batch["word_ids"], batch["char_ids"], batch["mask"])
    path = model.first_order(u, batch["mask"]).argmax.clamp(min=0)
    gen.forward = lambda b: F.one_hot(path, 3).double() * 50.0
    assert gen.search_error(batch).abs().max() < 1e-9


@pytest.mark.parametrize("argv, says", [
    (["--task", "text", "--method", "energy"], "--task pos only"),
    (["--task", "oracle", "--method", "energy"], "--task pos only"),
    (["--task", "pos", "--method", "cot"], "--method energy"),
    (["--task", "pos", "--method", "energy", "--energy_terms", "label_lm,skip_chain"], "unknown term(s) skip_chain"),
    (["--task", "pos", "--method", "energy", "--energy_ce_weight", "-1"], "--energy_ce_weight and --energy_g_weight"),
])
def test_bad_energy_options_stop_before_training_with_the_fix(argv, says):
    with pytest.raises(ValueError, match=None) as e:
        parse_args(argv)
    assert says in str(e.value)


ENERGY_RUN = ["--task", "pos", "--method", "energy", "--hidden_size", "16", "--num_layers", "1", "--char_dim", "8",
              "--char_filters", "8", "--dev_size", "10", "--batch_size", "7", "--min_steps", "0"]


def test_sigkill_then_resume_ends_exactly_like_an_uninterrupted_run(data_dir, tmp_path):
    """Killed mid-run (dropout on, so every RNG and the data position matter), resumed from its latest state: the
    weights, test metrics and log equal an uninterrupted run's."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from helpers import ENV, newest_phase, same_run
    from test_reliability import small_copy

    from conftest import ROOT

    data = small_copy(data_dir, tmp_path, "pos")

    def cmd(out, *extra):
        return [sys.executable, str(ROOT / "scripts" / "train.py"), *ENERGY_RUN, "--data_dir", str(data),
                "--output_dir", str(out), "--max_steps", "90", "--eval_every", "9", "--dropout", "0.1", *extra]

    subprocess.run(cmd(tmp_path / "a"), env=ENV, check=True, capture_output=True, timeout=600)
    proc = subprocess.Popen(cmd(tmp_path / "b"), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    states = tmp_path / "b" / "checkpoints"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and newest_phase(states) != "energy":
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed; make it longer"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "b" / "eval_test.json").exists()
    subprocess.run(cmd(tmp_path / "b", "--resume_from_checkpoint", "latest"), env=ENV, check=True,
                   capture_output=True, timeout=600)
    same_run(tmp_path / "a", tmp_path / "b")
