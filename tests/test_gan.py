"""Adversarial training: discriminator, bridges, rollouts, the alternating loop, and clear errors."""

import json

import pytest
import torch
from helpers import CASES, TINY_D, setup

from conftest import load_script
from seqgan.checkpoint import load_checkpoint, load_discriminator, save_checkpoint
from seqgan.config import GanArguments
from seqgan.tasks import parse_args
from seqgan.training.bridges import BRIDGES, BridgeContext, apply_baseline, discounted_returns, gumbel_beta
from seqgan.training.gan import build_discriminator, g_step
from seqgan.training.losses import LOSSES
from seqgan.training.reference_rollouts import REFERENCE_ROLLOUTS
from seqgan.training.rollout import rollout_rewards, rollouts_cached


@pytest.mark.parametrize("bridge", list(BRIDGES))
@pytest.mark.parametrize("name", ["oracle", "text", "pos"])
def test_g_step_moves_every_g_parameter_and_leaves_d_untouched(name, bridge):
    acc, m, batch = setup(name, bridge, loss="rsgan" if bridge == "gumbel" else "standard")
    before_g = {k: v.clone() for k, v in m.gen.named_parameters()}
    before_d = {k: v.clone() for k, v in m.disc.named_parameters()}
    logs = g_step(acc, m, batch)
    assert all(p.grad is None for p in m.disc.parameters())  # no gradient was computed for D
    assert all(torch.equal(v, before_d[k]) for k, v in m.disc.named_parameters())
    unchanged = [k for k, v in m.gen.named_parameters() if torch.equal(v, before_g[k])]
    assert unchanged == []
    assert torch.isfinite(torch.tensor(logs["gan/g_loss"])) and 0 <= logs["gan/distinct_2"] <= 1
    assert m.disc.embed.weight.requires_grad  # D is trainable again after G's step


@pytest.mark.parametrize("bridge", ["gumbel", "st-gumbel"])
def test_gumbel_gradient_reaches_g_through_d(bridge):
    acc, m, batch = setup("oracle", bridge)
    loss, _, _ = BRIDGES[bridge](m.ctx, batch)
    loss.backward()
    grad = m.gen.model.transformer.h[0].mlp.c_fc.weight.grad
    assert grad is not None and grad.abs().sum() > 0
    # With D's output layer zeroed, D's score no longer depends on its input: no gradient may reach G.
    m.gen.zero_grad()
    with torch.no_grad():
        m.disc.head.weight.zero_()
    loss, _, _ = BRIDGES[bridge](m.ctx, batch)
    loss.backward()
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in m.gen.parameters())


def rollout_case(name, causal=False):
    """A float64 tiny G (rounding can no longer move a sampling boundary between implementations), its samples,
    a float64 D and the reward function a bridge would pass to rollout_rewards."""
    task, tok, gen, batch = CASES[name]()
    gen = gen.double()
    torch.manual_seed(0)
    disc = build_discriminator(gen.vocab_size, GanArguments(disc_causal=causal, **TINY_D),
                               len(tok) if gen.conditional else 0,
                               64).double().eval()
    cond = batch if gen.conditional else None
    with torch.no_grad():
        s = gen.sample(cond, num_samples=None if cond else 4, rng=torch.Generator().manual_seed(1))

    def reward_fn(tokens, mask, rows):  # tokens come in length buckets, possibly narrower than the batch
        c = {k: v[rows][:, : tokens.shape[1]] if v.dim() > 1 else v[rows] for k, v in batch.items()
             if torch.is_tensor(v)} \
            if cond else None
        return disc.score(tokens=tokens, mask=mask, cond=c)

    return gen, disc, cond, s, reward_fn, batch["mask"] if cond else None


@pytest.mark.parametrize("name", ["oracle", "text", "pos"])
def test_cached_rollouts_equal_naive_rollouts(name):
    gen, disc, cond, s, reward_fn, fixed = rollout_case(name)
    impls = {"cached": rollouts_cached, **REFERENCE_ROLLOUTS}
    q = {impl: rollout_rewards(gen, reward_fn, cond, s.tokens, s.mask, fixed, num_rollouts=3,
                               rng=torch.Generator().manual_seed(2), rollouts=fn, max_rows=7)
         for impl, fn in impls.items()}
    assert all(torch.equal(q["cached"], q[impl]) for impl in ("per_prefix", "reencode", "prefix"))
    assert (q["cached"][s.mask] != 0).all() and (q["cached"][~s.mask] == 0).all()
    # The last real token's reward is D's score of the sequence itself.
    last = s.mask.sum(1) - 1
    full = reward_fn(s.tokens, s.mask, torch.arange(len(s.tokens)))
    assert torch.equal(q["cached"][torch.arange(len(last)), last], full)


@pytest.mark.parametrize("name", ["oracle", "text", "pos"])
def test_shared_prefix_d_rewards_equal_unshared(name):
    """A causal D scores each rollout prefix once and only the continuations on its cache: the same rewards as
    scoring every completion whole, in float64."""
    gen, disc, cond, s, reward_fn, fixed = rollout_case(name, causal=True)

    def prefix_reward_fn(comp, cmask, prefix_len, rows):
        return disc.score_continuations(comp, cmask, prefix_len, rows, cond)

    q = [rollout_rewards(gen, reward_fn, cond, s.tokens, s.mask, fixed, num_rollouts=3,
                         rng=torch.Generator().manual_seed(2),
                         prefix_reward_fn=shared) for shared in (None, prefix_reward_fn)]
    assert (q[0][s.mask] != 0).all() and torch.allclose(q[0], q[1], atol=1e-10, rtol=0)


def test_rloo_baseline_has_zero_mean_per_group():
    ctx = BridgeContext(gen=None, policy=None, disc=None, loss=None, args=GanArguments(baseline="rloo"),
                        conditional=True,
                        total_steps=1)
    k, groups = 4, 3
    r = torch.randn(k * groups)
    adv = apply_baseline(ctx, r, k, "seq").view(k, groups)
    assert torch.allclose(adv.mean(0), torch.zeros(groups), atol=1e-6)
    assert torch.allclose(adv[0, 0], r.view(k, groups)[0, 0] - r.view(k, groups)[1:, 0].mean())  # leave-one-out
    per_token = torch.randn(k * groups, 5)
    assert torch.allclose(apply_baseline(ctx, per_token, k, "tok").view(k, groups, 5).mean(0), torch.zeros(groups, 5),
                          atol=1e-6)


def test_discounted_returns_and_gumbel_schedule():
    r = torch.tensor([[1.0, 2.0, 3.0, 0.0]])
    mask = torch.tensor([[True, True, True, False]])
    assert torch.allclose(discounted_returns(r, mask, 0.5),
                          torch.tensor([[1 + 0.5 * 2 + 0.25 * 3, 2 + 0.5 * 3, 3.0, 0.0]]))
    # G steps n = 0 .. N-1: the first runs at beta 1, the last (n = N - 1) at beta_max exactly.
    args = GanArguments(gumbel_beta_max=100.0, gumbel_schedule="exp")
    assert gumbel_beta(args, 0, 41) == 1.0 and gumbel_beta(args, 40, 41) == pytest.approx(100.0)
    assert gumbel_beta(args, 20, 41) == pytest.approx(10.0)  # beta_max^(n/(N-1))
    lin = GanArguments(gumbel_beta_max=11.0, gumbel_schedule="linear")
    assert gumbel_beta(lin, 5, 11) == pytest.approx(6.0) and gumbel_beta(lin, 10, 11) == pytest.approx(11.0)


def test_rsgan_pairing_is_explicit():
    r, f = torch.tensor([2.0, -1.0]), torch.tensor([0.5, 1.0])
    loss = LOSSES["rsgan"]
    sp = torch.nn.functional.softplus
    assert torch.allclose(loss.d(r, f, paired=True), sp(-(r - f)).mean())
    assert torch.allclose(loss.d(r, f, paired=False), 0.5 * (sp(-(r - f.mean())).mean() + sp(-(r.mean() - f)).mean()))
    with pytest.raises(ValueError, match="as many real as fake"):
        loss.d(r, torch.zeros(3), paired=True)
    with pytest.raises(ValueError, match="same shape"):  # G's loss never guesses a pairing from shapes
        loss.g(torch.zeros(3), r)
    assert torch.allclose(loss.g(f, r), sp(-(f - r)))


def test_rollout_rewards_compare_every_position_with_the_same_real_logit():
    """RSGAN rollout rewards: the last position (the sample itself) and every prefix's completions are compared
    with the real logit of the sample's own row, the same reference at every position."""
    from seqgan.training.bridges import rollout

    acc, m, batch = setup("oracle", bridge="rollout", loss="rsgan")
    seen = []
    real_g = m.ctx.loss.g

    def spy(d_fake, d_real):
        seen.append(d_real.clone())
        return real_g(d_fake, d_real)

    m.ctx.loss = type(m.ctx.loss)(d=m.ctx.loss.d, g=spy, relativistic=True)
    with torch.no_grad():
        d_real = m.ctx.disc.score(tokens=batch["labels"], mask=batch["mask"])
    rollout(m.ctx, batch)
    n = batch["labels"].shape[0]
    full = seen[-1]  # the last call scores the samples themselves, row b against real row b
    assert torch.equal(full, d_real)
    prefixes = torch.cat(seen[:-1])  # completions, in (rollout, prefix, row) order: row b's reference is d_real[b]
    assert torch.equal(prefixes, d_real.repeat(len(prefixes) // n))


def test_gan_checkpoint_saves_and_reloads_both_models(tmp_path):
    acc, m, batch = setup("pos")
    save_checkpoint(tmp_path / "ckpt", m.gen, CASES["pos"]()[1], {"task": "pos"}, {"step": 0}, disc=m.disc)
    from seqgan.tasks import get_task

    gen2, _, _ = load_checkpoint(str(tmp_path / "ckpt"), get_task("pos"))
    disc2 = load_discriminator(str(tmp_path / "ckpt"))
    m.gen.eval(), gen2.eval(), m.disc.eval(), disc2.eval()
    with torch.no_grad():
        assert torch.equal(m.gen(batch), gen2(batch))
        assert torch.equal(m.disc(tokens=batch["labels"], mask=batch["mask"], cond=batch),
                           disc2(tokens=batch["labels"], mask=batch["mask"], cond=batch))
    assert {p.name for p in (tmp_path / "ckpt" / "discriminator").iterdir()} == {"config.json", "model.safetensors"}


def test_bad_combinations_are_clear_errors():
    with pytest.raises(ValueError, match="--bridge dense needs a score for every prefix: add --disc_causal"):
        parse_args(["--task", "oracle", "--method", "gan", "--bridge", "dense"])
    with pytest.raises(ValueError, match="--baseline rloo needs --samples_per_input >= 2"):
        parse_args(["--task", "pos", "--method", "gan", "--samples_per_input", "1"])
    with pytest.raises(ValueError,
                       match="--init_from starts an adversarial or cooperative run; add --method gan or cot"):
        parse_args(["--task", "pos", "--init_from", "runs/pos-mle"])
    with pytest.raises(ValueError, match="--bridge 'ppo' is not one of"):
        parse_args(["--task", "pos", "--method", "gan", "--bridge", "ppo"])
    with pytest.raises(ValueError, match="--cold_temperature corrects REINFORCE's samples"):
        parse_args(["--task", "oracle", "--method", "gan", "--bridge", "gumbel", "--cold_temperature", "0.7"])
    # A D over another vocabulary cannot read this G's soft (or hard) outputs.
    task, tok, gen, batch = CASES["text"]()
    other = build_discriminator(7, GanArguments(**TINY_D))
    with pytest.raises(ValueError, match="probs have .* classes but this discriminator judges a vocabulary of 7"):
        other(probs=torch.rand(2, 3, gen.vocab_size))


@pytest.mark.parametrize("clip", [float("inf"), 1.0])
def test_cold_reinforce_importance_weights_give_the_on_policy_gradient(clip):
    """ColdGAN-style REINFORCE on a two-word sentence, every one of its |tags|² tag sequences enumerated: its
    expected gradient under q = G at T = 0.6 equals -∇ E_p[r] / 2 (2 tokens a row) when the ratio is unclipped."""
    from datasets import Dataset

    from seqgan.models.generator import Samples
    from seqgan.training.bridges import policy_gradient

    task, tok, gen, _ = CASES["pos"]()
    row = task.encode(Dataset.from_list([{"sent_id": "b", "words": ["Cats", "sleep"], "tags": ["NOUN", "VERB"]}]), tok,
                      gen)[0]
    n_tags = len(gen.model.config.tags)
    ys = torch.cartesian_prod(torch.arange(n_tags), torch.arange(n_tags))  # (N, 2): every tag sequence
    cond = task.collator(tok)([row] * len(ys))
    args = GanArguments(cold_temperature=0.6, cold_clip=clip, baseline="none")
    ctx = BridgeContext(gen=gen, policy=gen, disc=None, loss=None, args=args, conditional=True, total_steps=1)
    r = torch.randn(len(ys), generator=torch.Generator().manual_seed(0))  # any reward
    with torch.no_grad():
        logq = gen.token_logprobs({**cond, "labels": ys}, temperature=0.6)  # (N, 2)
    # policy_gradient averages over rows; weighting row y by q(y)·N turns that average into E_q.
    q = logq.sum(1).exp()
    loss, logs = policy_gradient(ctx, Samples(tokens=ys, logprobs=logq, mask=cond["mask"]), cond, r * q * len(ys), r,
                                 off_policy=True)
    params = [p for p in gen.parameters() if p.requires_grad]
    got = torch.autograd.grad(loss, params, allow_unused=True)
    p = gen.token_logprobs({**cond, "labels": ys}).sum(1).exp()  # (N,) with gradients
    assert abs(p.sum().item() - 1) < 1e-5
    want = torch.autograd.grad(-(p * r).sum() / 2, params, allow_unused=True)
    pairs = [(a, b) for a, b in zip(got, want) if b is not None]
    diff = torch.cat([(a - b).flatten() for a, b in pairs]).norm() / torch.cat([b.flatten() for _, b in pairs]).norm()
    close = diff.item() < 1e-4  # float32 logits
    assert close == (clip == float("inf")), (diff, logs)  # clipping at 1 biases it, as it must where p > q
    assert (logs["gan/is_clipped"] > 0) == (clip == 1.0)


def test_a_cold_reinforce_step_samples_at_its_temperature_and_logs_its_weights():
    acc, m, batch = setup("text", cold_temperature=0.5, cold_clip=2.0)
    logs = g_step(acc, m, batch)
    assert 0 < logs["gan/is_weight_mean"] <= 2.0 and 0 <= logs["gan/is_clipped"] <= 1
    samples = BRIDGES["reinforce"](m.ctx, batch)[2]
    with torch.no_grad():  # the samples' own log-probs are those of G at T = 0.5
        assert torch.allclose(samples.logprobs, m.gen.token_logprobs({"labels": samples.tokens, "mask": samples.mask},
                                                                     temperature=0.5), atol=1e-5)


def test_discriminator_from_a_mismatched_checkpoint_is_refused(tmp_path):
    build_discriminator(7, GanArguments(**TINY_D)).save_pretrained(tmp_path / "d")
    with pytest.raises(ValueError, match="judges a vocabulary of 7 tokens but the generator emits 12"):
        build_discriminator(12, GanArguments(disc_name_or_path=str(tmp_path / "d")))
    with pytest.raises(ValueError, match="--disc_causal True contradicts the loaded discriminator"):
        build_discriminator(7, GanArguments(disc_name_or_path=str(tmp_path / "d"), disc_causal=True))


def test_tiny_adversarial_run_trains_d_and_changes_g(data_dir, tmp_path):
    train = load_script("train")
    common = ["--task", "oracle", "--data_dir", str(data_dir), "--hidden_size", "32", "--num_layers", "1",
              "--num_heads", "2", "--ffn_size", "64", "--dropout", "0.0", "--dev_size", "100", "--test_size", "100",
              "--num_eval_samples", "50", "--num_test_samples", "50"]
    train.main([*common, "--output_dir", str(tmp_path / "mle"), "--max_steps", "40", "--learning_rate", "3e-3"])
    with pytest.raises(ValueError, match="--method gan needs a generator to start from"):
        train.main([*common, "--method", "gan", "--output_dir", str(tmp_path / "x")])
    res = train.main([*common, "--method", "gan", "--init_from", str(tmp_path / "mle"), "--output_dir",
                      str(tmp_path / "gan"),
                      "--adv_steps", "6", "--d_pretrain_steps", "40", "--gan_log_every", "2", "--gan_eval_every", "3",
                      "--batch_size", "32", "--d_learning_rate", "1e-3", "--g_learning_rate", "1e-3", *sum(
                          ([f"--{k}", str(v)] for k, v in TINY_D.items()), [])])
    log = [json.loads(ln) for ln in (tmp_path / "gan" / "metrics.jsonl").read_text().splitlines()]
    pre = [r for r in log if r.get("phase") == "d_pretrain"]
    assert pre[-1]["gan/d_acc"] > 0.6  # D learned to tell oracle samples from G's
    assert any("gan/reward_mean" in r for r in log) and res["bridge"] == "reinforce"
    start, _, _ = load_checkpoint(str(tmp_path / "mle" / "last"), __import__("tasks").get_task("oracle"))
    end, _, _ = load_checkpoint(str(tmp_path / "gan" / "last"), __import__("tasks").get_task("oracle"))
    changed = [k for k, v in end.named_parameters() if not torch.equal(v, dict(start.named_parameters())[k])]
    assert len(changed) == len(list(end.parameters()))
    assert (tmp_path / "gan" / "last" / "discriminator" / "model.safetensors").is_file()
    assert "last/test/nll_oracle" in res and "test/nll_oracle" in res
