#!/usr/bin/env python
"""Benchmarks: time seqgan's hot paths and check each against a reference in the same run.

    python scripts/benchmark.py all --output_file runs/benchmark.json   # every section below, one JSON report + table
    python scripts/benchmark.py matmul pos   # the default pos step profiled: parts' shares, padding, dev evaluation
    python scripts/benchmark.py mle       # MLE tokens/s: the shipped step vs a plain PyTorch loop, fp32 and bf16
    python scripts/benchmark.py peer      # the rollout G step at TextGAN-PyTorch's G size (published: 22.2 s)
    python scripts/benchmark.py gan       # seconds per adversarial round, each bridge
    python scripts/benchmark.py rollout   # SeqGAN rollout rewards: cached vs per-prefix state vs re-encoding
    python scripts/benchmark.py bleu      # test-BLEU-2..5 and self-BLEU-2..5 at 10,000 samples, vs nltk
    python scripts/benchmark.py viterbi   # CRF Viterbi sentences/s
    python scripts/benchmark.py decode    # greedy tagging words/s: MLE tagger, CRF, --method energy's G
    python scripts/benchmark.py defaults --baseline_ref a97fb7b   # every default command, this code vs release 0.3.0

Each section prints its figures; all of them go into one JSON report (--output_file, written atomically)
and a markdown table. Model sections report achieved GFLOP/s (FLOPs counted by torch's
FlopCounterMode over one untimed repetition) beside a float32 matmul timed in the same run, so the
reader sees how close to the machine's limit each runs. Sections that time several precisions (matmul,
mle, gan, peer) run each one in its own process. The device is the GPU when there is one, else the CPU;
set SEQGAN_NUM_THREADS to fix the CPU thread count.
"""

from __future__ import annotations

import math
import os
import platform
import random
import resource
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from seqgan.checkpoint import write_json_atomic, write_text_atomic
from seqgan.cli import OUTPUT_RENAMED, cpu_bf16_support, make_parser, quiet_libraries, renamed_flags, run
from seqgan.provenance import cpu_model


@dataclass
class BenchmarkArguments:
    output_file: str = field(default="runs/benchmark.json",
                             metadata={"help": "JSON report (a .md table is written beside it)."})
    data_dir: str | None = field(default=None, metadata={"help": "Data folder (default: $SEQGAN_DATA_DIR)."})
    seed: int = field(default=0, metadata={"help": "Seed for every sampled input."})
    nltk_check: int = field(default=20, metadata={"help": "bleu: hypotheses re-scored with nltk to check exactness."})
    bleu_samples: int = field(default=10000, metadata={"help": "bleu: hypotheses (COCO training captions) to score."})
    oracle_checkpoint: str = field(default="runs/oracle-mle", metadata={
        "help": "rollout/mle/gan: the oracle generator to time (a fresh default-size one if the folder is missing)."})
    rollout_batch: int = field(default=64, metadata={"help": "rollout: sampled sequences (batch)."})
    num_rollouts: int = field(default=16, metadata={"help": "rollout: Monte-Carlo completions per prefix."})
    rollout_max_rows: int = field(default=1216,
                                  metadata={"help": "rollout: rows per chunk of the cached version on CPU."})
    rollout_generator_flags: str = field(default="", metadata={
        "help": "rollout: time a fresh oracle generator built with these train.py model flags instead of "
                "--oracle_checkpoint, e.g. '--num_layers 6 --hidden_size 256' (how the ratio scales with G's body)."})
    steps: int = field(default=30,
                       metadata={"help": "mle: timed training steps of each loop; pos: batches timed, spread over an "
                                         "epoch."})
    gan_rounds: int = field(default=5, metadata={"help": "gan: timed adversarial rounds per bridge."})
    precisions: str = field(default="no,bf16", metadata={
        "help": "matmul/mle/gan/peer: the --mixed_precision settings to time, in one run (comma-separated: no, bf16, "
                "fp16)."})
    peer_rounds: int = field(default=3, metadata={"help": "peer: timed rollout G steps per configuration."})
    baseline_ref: str = field(default="", metadata={
        "help": "defaults: a git commit or tag (0.3.0 or later, e.g. a97fb7b) whose code runs the same commands in "
                "the same run, for the ratio; empty: this code alone."})
    default_steps: int = field(default=200, metadata={
        "help": "defaults: optimiser steps (GAN: adversarial rounds) each training command is capped at, its dev and "
                "test evaluation included; 0 runs every default in full."})
    default_commands: str = field(default="all", metadata={
        "help": "defaults: which commands to time, comma-separated from pos, text, oracle, gan-<bridge>, sweep "
                "(gan and sweep start from the oracle run, so they need oracle); all: every one."})


def _accelerator(precision: str):
    """An Accelerator with this --mixed_precision. accelerate keeps one process-wide state, so it is reset first
    (an internal call, harmless in a single-process benchmark): each precision runs exactly as train.py runs it."""
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)
    return Accelerator(cpu=not torch.cuda.is_available(), mixed_precision=precision)


def _precisions(args) -> list[str]:
    return [p.strip() for p in args.precisions.split(",") if p.strip()]


def _flops(fn) -> int:
    """FLOPs of one call of fn, as torch's FlopCounterMode counts them (matmuls, convolutions, attention)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def bench_matmul(args) -> dict:
    """The machine's reference: GFLOP/s of a (2048 x 1024) @ (1024 x 1024) matmul, best of 20, in each precision."""
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    out = {}
    for p in _precisions(args):
        dtype = {"no": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[p]
        a, b = torch.randn(2048, 1024, device=dev, dtype=dtype), torch.randn(1024, 1024, device=dev, dtype=dtype)
        best = min(_timed(lambda: a @ b, 1, dev) for _ in range(20))
        out[f"{p}_gflops_per_s"] = 2 * 2048 * 1024 * 1024 / best / 1e9
        print(f"[matmul] {dtype} 2048x1024 @ 1024x1024: {out[f'{p}_gflops_per_s']:,.0f} GFLOP/s", file=sys.stderr)
    return out


def _data_file(args, rel: str) -> str:
    from seqgan.data import resolve_data_file

    return str(resolve_data_file(rel, args.data_dir))


def bench_bleu(args) -> dict:
    """Test-BLEU-2..5 of 10,000 hypotheses against the 10,000 COCO test references; self-BLEU-2..5 of
    10,000 samples. Hypotheses are COCO training captions (whitespace tokens), so no model is needed;
    a seeded subsample is re-scored with nltk's sentence_bleu in the same run."""
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    from seqgan.scoring.bleu import BleuReferences, self_bleu_scores, test_bleu

    refs = [ln.split() for ln in open(_data_file(args, "coco/test_coco.txt")).read().splitlines()]
    hyps = [ln.split()
            for ln in open(_data_file(args, "coco/image_coco.txt")).read().splitlines()][: args.bleu_samples]
    t0 = time.perf_counter()
    prepared = BleuReferences(refs)
    bleu = test_bleu(hyps, prepared)
    t_test = time.perf_counter() - t0
    t0 = time.perf_counter()
    per_sample_self = self_bleu_scores(hyps)
    t_self = time.perf_counter() - t0
    sbleu = {n: sum(s[n] for s in per_sample_self) / len(hyps) for n in (2, 3, 4, 5)}

    rng = random.Random(args.seed)
    check = rng.sample(range(len(hyps)), min(args.nltk_check, len(hyps)))
    smooth = SmoothingFunction().method1
    worst, t0 = 0.0, time.perf_counter()
    for i in check:
        mine = prepared.sentence_bleu(hyps[i])
        others = hyps[:i] + hyps[i + 1:]
        for n in (2, 3, 4, 5):
            w = (1 / n,) * n
            worst = max(worst, abs(mine[n] - sentence_bleu(refs, hyps[i], w, smoothing_function=smooth)),
                        abs(per_sample_self[i][n] - sentence_bleu(others, hyps[i], w, smoothing_function=smooth)))
    t_nltk = (time.perf_counter() - t0) / max(len(check), 1)
    out = {
        "num_hypotheses": len(hyps), "num_references": len(refs),
        "test_bleu_seconds": t_test, "self_bleu_seconds": t_self,
        "test_bleu": {str(k): v for k, v in bleu.items()}, "self_bleu": {str(k): v for k, v in sbleu.items()},
        "nltk_checked": len(check), "nltk_max_abs_diff": worst,
        "nltk_seconds_per_hypothesis_test_and_self_4_orders": t_nltk,
    }
    print(f"[bleu] test-BLEU-2..5, {len(hyps)} hyps x {len(refs)} refs: {t_test:.2f} s; "
          f"self-BLEU-2..5, {len(hyps)} samples: {t_self:.2f} s; nltk on {len(check)} hyps: max |diff| {worst:.1e}",
          file=sys.stderr)
    return out


def _oracle_generator(args, flags: str = ""):
    """The oracle task's generator: runs/oracle-mle when it exists (and no `flags`), else a fresh one
    of the default size, or built with the model `flags`."""
    from seqgan.checkpoint import load_checkpoint
    from seqgan.tasks import get_task, parse_args

    task = get_task("oracle")
    if os.path.isdir(args.oracle_checkpoint) and not flags:
        gen, tok, _ = load_checkpoint(args.oracle_checkpoint, task)
        source = args.oracle_checkpoint
    else:
        data, model, _, _, _ = parse_args(["--task", "oracle", *flags.split()])
        tok = task.build_tokenizer(None, model, data)
        gen = task.build_generator(tok, model, data)
        source = f"fresh oracle generator ({flags or 'default size; no checkpoint found'})"
    return gen.eval(), tok, source


def bench_rollout(args) -> dict:
    """SeqGAN rewards for batch 64, length 20, 16 rollouts, same G and D, three implementations:
    cached (seqgan: one prefill shared by every prefix length), per_prefix (the fair competitor: each prefix
    length encoded once, its N x B continuations batched and chunked like the cached version; what an RNN
    implementation that carries its state does) and reencode (every new token re-encodes its sequence).

    Timing runs in float32. Equality is checked on the same models cast to float64, where rounding
    cannot move a sampling boundary: identical completions and rewards under the same seed. D's scoring
    of the completions (the same work in every implementation) is also timed alone."""
    from seqgan.config import GanArguments
    from seqgan.training.gan import build_discriminator
    from seqgan.training.reference_rollouts import REFERENCE_ROLLOUTS
    from seqgan.training.rollout import draw_uniforms, rollout_rewards, rollouts_cached, score_completions

    impl_fns = {"cached": rollouts_cached, **REFERENCE_ROLLOUTS}
    gen, tok, source = _oracle_generator(args, args.rollout_generator_flags)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    gen = gen.to(dev)
    disc = build_discriminator(gen.vocab_size, GanArguments(), 0, 64).to(dev).eval()
    B, N = args.rollout_batch, args.num_rollouts
    with torch.no_grad():
        s = gen.sample(num_samples=B, rng=torch.Generator(device=dev).manual_seed(args.seed))
    max_rows = None if dev.type == "cuda" else args.rollout_max_rows  # CPU: cache-sized chunks are fastest

    def call(g, d, impl):
        fn = lambda tokens, mask, rows: d.score(tokens=tokens, mask=mask)  # noqa: E731
        return rollout_rewards(g, fn, None, s.tokens, s.mask, None, N,
                               torch.Generator(device=dev).manual_seed(args.seed + 1),
                               rollouts=impl_fns[impl], max_rows=max_rows)

    impls = ("cached", "per_prefix", "reencode")
    seconds, rewards, flops = {}, {}, {}
    for impl in impls:
        # after a warm-up call
        seconds[impl] = _timed(lambda: rewards.__setitem__(impl, call(gen, disc, impl)), 1, dev)
    for impl in impls[:2]:  # counting re-encoding's FLOPs would take as long as running it again
        flops[impl] = _flops(lambda: call(gen, disc, impl))
    with torch.no_grad():  # D's scoring of the N x (T-1) x B completions alone, the same in every implementation
        u = draw_uniforms(N, B, s.tokens.shape[1], torch.Generator(device=dev).manual_seed(args.seed + 1), dev)
        comp, cmask = rollouts_cached(gen, None, s.tokens, s.mask, None, u, max_rows)
        t_d = _timed(lambda: score_completions(lambda tokens, mask, rows: disc.score(tokens=tokens, mask=mask), comp,
                                               cmask),
                     1, dev, warmup=False)
    g64, d64 = gen.double(), disc.double()
    exact = [call(g64, d64, impl) for impl in impls]
    t_c = seconds["cached"]
    out = {"model": source, "batch": B, "length": s.tokens.shape[1], "rollouts": N,
           "rows_per_chunk": max_rows or B * N * 19,
           **{f"{impl}_seconds": seconds[impl] for impl in impls},
           "speedup_vs_per_prefix": seconds["per_prefix"] / t_c, "speedup_vs_reencode": seconds["reencode"] / t_c,
           "d_scoring_seconds": t_d,
           "completions_speedup_vs_per_prefix": (seconds["per_prefix"] - t_d) / max(t_c - t_d, 1e-9),
           **{f"{impl}_gflops_per_s": flops[impl] / seconds[impl] / 1e9 for impl in flops},
           "float64_rewards_identical": all(torch.equal(exact[0], e) for e in exact[1:]),
           "float32_max_reward_diff": max((rewards["cached"] - rewards[i]).abs().max().item() for i in impls[1:])}
    print(f"[rollout] cached {t_c:.2f} s; per-prefix state {seconds['per_prefix']:.2f} s "
          f"({out['speedup_vs_per_prefix']:.2f}x); "
          f"re-encoding {seconds['reencode']:.2f} s ({out['speedup_vs_reencode']:.1f}x); D scoring alone {t_d:.2f} s "
          "of each; "
          f"{out['cached_gflops_per_s']:.1f} GFLOP/s cached; float64 rewards identical: "
          f"{out['float64_rewards_identical']}",
          file=sys.stderr)
    return out


def _oracle_batches(args, n: int, batch_size: int, device):
    """n real oracle batches (from real_data.txt), collated and on the device."""
    from seqgan.config import DataArguments
    from seqgan.tasks import get_task

    task = get_task("oracle")
    gen, tok, _ = _oracle_generator(args)
    data = task.load_splits(DataArguments(task="oracle", data_dir=args.data_dir, dev_size=10, test_size=10))
    rows = list(task.encode(data["train"], tok, gen))
    collate = task.collator(tok)
    return [{k: v.to(device) for k, v in collate(rows[i * batch_size:(i + 1) * batch_size]).items()} for i in range(n)]


def _timed(fn, steps: int, device, warmup: bool = True) -> float:
    """Seconds per call of fn, averaged over `steps` calls (after one warm-up call)."""
    if warmup:
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / steps


def bench_mle(args) -> dict:
    """MLE tokens/s of the oracle generator in each precision: the shipped training step (the Objective through
    accelerate, autocast under --mixed_precision, the guarded backward / clip / step / scheduler of
    seqgan.training.gan.guarded_step with its cross-process non-finite check, the loss kept for logging) against a
    plain
    PyTorch loop over the same model and batches (fp32, and torch.autocast for the lower precisions)."""
    import transformers

    from seqgan.training.loops import Guard, param_groups, supervised_step
    from seqgan.training.losses import Objective, mle_loss, mle_objective

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    batches = _oracle_batches(args, args.steps, 64, dev)
    tokens = sum(int(b["mask"].sum()) for b in batches) / len(batches)
    out = {"batch": 64, "tokens_per_step": tokens}
    for p in _precisions(args):
        gen, _, out["model"] = _oracle_generator(args)
        gen = gen.to(dev).train()
        acc = _accelerator(p)
        opt = torch.optim.AdamW(param_groups(gen, 0.01), lr=1e-4)
        sched = transformers.get_scheduler("linear", opt, num_warmup_steps=10, num_training_steps=10 ** 6)
        model, opt, sched = acc.prepare(Objective(gen, mle_objective), opt, sched)
        guard, running = Guard(acc, rec=None), []
        it = iter(range(10 ** 9))

        def seqgan_step():  # the step seqgan.training.loops.train_supervised takes, and its loss kept for logging
            step = next(it)
            ok, loss, _ = supervised_step(acc, model, (opt, sched), batches[step % len(batches)], guard, step, 1.0)
            if ok:
                running.append(loss.detach())
            if len(running) == 50:  # --log_every 50: one gathered mean
                acc.gather(torch.stack(running).mean()[None]).mean().item()
                running.clear()

        plain_gen, _, _ = _oracle_generator(args)
        plain_gen = plain_gen.to(dev).train()
        plain_opt = torch.optim.AdamW(plain_gen.parameters(), lr=1e-4)
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(p)

        def plain_step():
            batch = batches[next(it) % len(batches)]
            with torch.autocast(dev.type, dtype=dtype or torch.float32, enabled=dtype is not None):
                logits = plain_gen(batch)
            loss = mle_loss(logits, batch["labels"], batch["mask"])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(plain_gen.parameters(), 1.0)
            plain_opt.step()
            plain_opt.zero_grad()

        t_seq, t_plain = _timed(seqgan_step, args.steps, dev), _timed(plain_step, args.steps, dev)
        flops = _flops(plain_step)  # forward + backward of one batch (the optimiser's elementwise work is not counted)
        out.update({f"{p}_seqgan_tokens_per_s": tokens / t_seq, f"{p}_plain_pytorch_tokens_per_s": tokens / t_plain,
                    f"{p}_seqgan_over_plain": t_plain / t_seq, f"{p}_seqgan_gflops_per_s": flops / t_seq / 1e9,
                    f"{p}_plain_gflops_per_s": flops / t_plain / 1e9})
        print(f"[mle {p}] seqgan's training step {tokens / t_seq:,.0f} tokens/s ({flops / t_seq / 1e9:.1f} GFLOP/s), "
              f"plain PyTorch {tokens / t_plain:,.0f} tokens/s (ratio {t_plain / t_seq:.2f})", file=sys.stderr)
    return out


def _gan_setup(args, gen, gargs, acc, dev):
    from seqgan.training.bridges import BridgeContext
    from seqgan.training.gan import GanModels, build_discriminator
    from seqgan.training.losses import LOSSES

    disc = build_discriminator(gen.vocab_size, gargs, 0, 64).to(dev)
    ctx = BridgeContext(gen=gen, policy=gen, disc=disc, loss=LOSSES[gargs.gan_loss], args=gargs, conditional=False,
                        total_steps=100, rng=torch.Generator(device=dev).manual_seed(args.seed), accelerator=acc)
    return GanModels(gen, disc, torch.optim.AdamW(gen.parameters(), lr=1e-5), torch.optim.AdamW(
        [p for p in disc.parameters() if p.requires_grad], lr=1e-4), ctx, 1.0)


def bench_gan(args) -> dict:
    """Seconds per adversarial round (one D step + one G step, batch 64) for each bridge on the oracle task, in each
    precision (autocast as train.py runs it)."""
    from seqgan.config import GanArguments
    from seqgan.training.bridges import BRIDGES
    from seqgan.training.gan import d_step, g_step

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    batches = _oracle_batches(args, 4, 64, dev)
    out = {}
    for p in _precisions(args):
        acc = _accelerator(p)
        for bridge in BRIDGES:
            gargs = GanArguments(bridge=bridge, disc_causal=bridge == "dense",
                                 gan_loss="rsgan" if "gumbel" in bridge else "standard",
                                 num_rollouts=args.num_rollouts,
                                 rollout_max_rows=args.rollout_max_rows if dev.type == "cpu" else 10 ** 9)
            gen, _, _ = _oracle_generator(args)
            m = _gan_setup(args, gen.to(dev).eval(), gargs, acc, dev)
            i = iter(range(10 ** 9))

            def one_round():
                d_step(acc, m, batches[next(i) % 4])
                m.disc.eval()
                g_step(acc, m, batches[next(i) % 4])

            key = f"{p}_{bridge}"
            out[f"{key}_seconds_per_round"] = _timed(one_round, args.gan_rounds, dev)
            out[f"{key}_gflops_per_s"] = _flops(one_round) / out[f"{key}_seconds_per_round"] / 1e9
            print(f"[gan {p}] {bridge}: {out[f'{key}_seconds_per_round']:.3f} s per round, "
                  f"{out[f'{key}_gflops_per_s']:.1f} GFLOP/s", file=sys.stderr)
    return out


def bench_peer(args) -> dict:
    """The SeqGAN G step (sampling, 16 rollouts of every prefix, D's rewards, the policy-gradient update) for 64 x 20
    tokens with a peer-size generator (1 layer, width 32, as TextGAN-PyTorch's SeqGAN; published: 22.2 s on a 2-core
    CPU), with the default D and with a causal D that shares each prefix's encoding, in each precision."""
    from seqgan.config import GanArguments
    from seqgan.training.gan import g_step

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    batches = _oracle_batches(args, 4, 64, dev)
    flags = "--num_layers 1 --hidden_size 32 --num_heads 2 --ffn_size 128"
    out = {"generator": f"fresh oracle generator ({flags})", "batch": 64, "length": 20, "rollouts": args.num_rollouts}
    for p in _precisions(args):
        acc = _accelerator(p)
        for d_name, causal in (("default_d", False), ("causal_d", True)):
            gargs = GanArguments(bridge="rollout", disc_causal=causal, num_rollouts=args.num_rollouts,
                                 rollout_max_rows=args.rollout_max_rows if dev.type == "cpu" else 10 ** 9)
            gen, _, _ = _oracle_generator(args, flags)
            m = _gan_setup(args, gen.to(dev).eval(), gargs, acc, dev)
            m.disc.eval()
            i = iter(range(10 ** 9))
            key = f"{p}_{d_name}_g_step_seconds"
            out[key] = _timed(lambda: g_step(acc, m, batches[next(i) % 4]), args.peer_rounds, dev)
            print(f"[peer {p}] rollout G step, {d_name}: {out[key]:.2f} s ({22.2 / out[key]:.1f}x faster than 22.2 s)",
                  file=sys.stderr)
            out.update({f"{p}_{d_name}_{k}": v for k, v in _g_step_profile(m, acc, args, dev).items()})
    return out


def _g_step_profile(m, acc, args, dev) -> dict:
    """Where a rollout G step's time goes: G's 64 samples, the 16 x 19 x 64 completions, D's scoring of them, and
    the rest (re-scoring the samples with gradients, the backward pass and the optimiser step)."""
    from seqgan.training.rollout import draw_uniforms, rollouts_cached, score_completions, score_completions_shared

    g, d = m.ctx.policy, m.ctx.disc
    with torch.no_grad(), acc.autocast():
        t_sample = _timed(lambda: g.sample(num_samples=64, rng=torch.Generator(device=dev).manual_seed(0)), 1,
                          dev)
        s = g.sample(num_samples=64, rng=torch.Generator(device=dev).manual_seed(0))
        u = draw_uniforms(args.num_rollouts, 64, s.tokens.shape[1], torch.Generator(device=dev).manual_seed(1), dev)
        t_comp = _timed(lambda: rollouts_cached(g, None, s.tokens, s.mask, None, u, args.rollout_max_rows), 1, dev)
        comp, cmask = rollouts_cached(g, None, s.tokens, s.mask, None, u, args.rollout_max_rows)
        if d.config.causal:
            score = lambda: score_completions_shared(  # noqa: E731
                lambda c, cm, L, rows: d.score_continuations(c, cm, L, rows), comp, cmask)
        else:
            score = lambda: score_completions(lambda t, k, rows: d.score(tokens=t, mask=k), comp, cmask)  # noqa: E731
        t_d = _timed(score, 1, dev)
    return {"profile_sample_seconds": t_sample, "profile_completions_seconds": t_comp,
            "profile_d_scoring_seconds": t_d}


def _pos_run(args):
    """The default pos run's parts as train.py builds them: options, splits, tokenizer, a fresh tagger, the encoded
    training rows and the shipped length-grouped sampler of epoch 0."""
    from seqgan.data import LengthGroupedBatchSampler
    from seqgan.scoring.evaluation import encode_splits
    from seqgan.tasks import get_task, parse_args

    task = get_task("pos")
    data, model_args, train_args, _, _ = parse_args(["--task", "pos",
                                                     *(["--data_dir", args.data_dir] if args.data_dir else [])])
    splits = task.load_splits(data)
    tok = task.build_tokenizer(splits, model_args, data)
    gen = task.build_generator(tok, model_args, data, splits["train"])
    encoded = encode_splits(task, splits, tok, gen, data.long_sequences)
    lengths = encoded["train"]["length"]
    sampler = LengthGroupedBatchSampler(lengths, train_args.batch_size, seed=train_args.seed)
    return task, data, train_args, tok, gen, encoded, lengths, list(sampler)


def bench_pos(args) -> dict:
    """The default pos MLE run, profiled: the shipped training step (supervised_step through accelerate, with the
    weight averaging train_supervised does after it) on the default sampler's batches; each part's forward + backward
    timed alone on the same batches (byte CNN, BiLSTM, tag decoder with its loss), the AdamW step and the averaging
    update; padding per batch over a whole epoch; one dev evaluation (greedy decoding + teacher-forced NLL); and the
    run's wall time these imply, against the same-run matmul."""
    import transformers

    from seqgan.scoring.evaluation import Evaluator, eval_loader, evaluate_split
    from seqgan.scoring.metrics import teacher_forced_nll
    from seqgan.training.loops import Guard, param_groups, supervised_step, weight_average
    from seqgan.training.losses import Objective, mle_loss, mle_objective

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    task, data, targs, tok, gen, encoded, lengths, batches_idx = _pos_run(args)
    pad = [len(b) * max(lengths[i] for i in b) / sum(lengths[i] for i in b) for b in batches_idx]  # padded / real
    collate, rows = task.collator(tok), encoded["train"]
    # --steps batches spread evenly over the epoch: the first ones alone are not a fair sample of its lengths
    picked = batches_idx[:: max(1, len(batches_idx) // args.steps)][: args.steps]
    batches = [{k: v.to(dev) for k, v in collate([rows[i] for i in b]).items()} for b in picked]
    tokens = sum(int(b["mask"].sum()) for b in batches) / len(batches)
    gen, acc = gen.to(dev).train(), _accelerator("no")
    # as train_supervised
    opt = torch.optim.AdamW(param_groups(gen, targs.weight_decay), lr=targs.learning_rate, fused=True)
    sched = transformers.get_scheduler(targs.lr_scheduler, opt, num_warmup_steps=10, num_training_steps=10 ** 6)
    averager = weight_average(gen, targs)
    model, opt, sched = acc.prepare(Objective(gen, mle_objective), opt, sched)
    guard, it = Guard(acc, rec=None), iter(range(10 ** 9))

    def shipped_step():  # train_supervised's step: forward, guarded backward, clip, AdamW, scheduler, then averaging
        step = next(it)
        supervised_step(acc, model, (opt, sched), batches[step % len(batches)], guard, step, targs.max_grad_norm)
        averager.update_parameters(gen)

    m, cyc = gen.model, iter(range(10 ** 9))
    with torch.no_grad():  # each part's input, computed once and outside its timing (a leaf: its gradient ends there)
        lstm_in = [m.encoder.embeddings.word_embeddings(b["word_ids"]) + m.char_proj(m.chars(b["char_ids"]))
                   for b in batches]  # (B, T, d) each
        dec_in = [m.encode(b["word_ids"], b["char_ids"], b["mask"]) for b in batches]  # (B, T, d) each

    def part(fn):  # forward + backward of one part on the next batch
        def call():
            k = next(cyc) % len(batches)
            out = fn(k, batches[k])
            (out if out.dim() == 0 else out.sum()).backward()
            gen.zero_grad(set_to_none=True)
        return call

    def leaf(x):
        return x.detach().requires_grad_()

    def adamw_step(optimizer=opt):
        for p in gen.parameters():  # a gradient for every parameter, as after a real backward pass
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        optimizer.step()

    parts = {
        "byte_cnn": part(lambda k, b: m.char_proj(m.chars(b["char_ids"]))),
        "bilstm": part(lambda k, b: m.encoder(inputs_embeds=leaf(lstm_in[k]),
                                              attention_mask=b["mask"].long()).last_hidden_state),
        "tag_decoder_and_loss": part(lambda k, b: mle_loss(m.decode(leaf(dec_in[k]),
                                                                    torch.where(b["mask"], b["labels"],
                                                                                m.config.tag_pad_id),
                                                                    attention_mask=b["mask"].long())[0], b["labels"],
                                                                    b["mask"])),
        "adamw_step": adamw_step,
        "weight_averaging": lambda: averager.update_parameters(gen),
    }
    # The two parts issue 36 changed, against what they replaced (the strongest baseline each): the same BiLSTM
    # weights as nn.LSTM over a packed batch (the release's computation), and AdamW's default implementation.
    default_opt = torch.optim.AdamW(param_groups(gen, targs.weight_decay), lr=targs.learning_rate)

    def packed_bilstm(k, b):  # BiLstmEncoder.forward of release 0.2.0
        enc, rnn = m.encoder, torch.nn.utils.rnn
        x = rnn.pack_padded_sequence(enc.dropout(leaf(lstm_in[k])), b["mask"].sum(1).cpu(), batch_first=True,
                                     enforce_sorted=False)
        h, _ = rnn.pad_packed_sequence(enc.lstm(x)[0], batch_first=True, total_length=b["mask"].shape[1])  # (B, T, d)
        return enc.dropout(h)

    replaced = {"bilstm": part(packed_bilstm), "adamw_step": lambda: adamw_step(default_opt)}
    n = len(batches)
    t_step = _timed(shipped_step, n, dev)
    out = {"batch": targs.batch_size, "tokens_per_step": tokens, "steps_timed": n, "s_per_step": t_step,
           "padded_over_real_mean": sum(pad) / len(pad), "padded_over_real_max": max(pad)}
    for name, fn in parts.items():
        out[f"share_{name}"] = _timed(fn, n, dev) / t_step
    out["share_other"] = 1 - sum(out[f"share_{k}"] for k in parts)  # Python, accelerate, clipping, the guard, ...
    for name, fn in replaced.items():  # ms of the shipped part and of what it replaced, timed in this run
        out[f"ms_{name}"] = out[f"share_{name}"] * t_step * 1e3
        out[f"ms_{name}_replaced"] = _timed(fn, n, dev) * 1e3
    flops = _flops(part(lambda k, b: mle_objective(gen, b)))
    out["gflops_per_s"] = flops / t_step / 1e9
    # One dev evaluation as the recorder runs it, and its two passes alone.
    loader = eval_loader(encoded["dev"], collate, 64, acc)
    ev = Evaluator(task, tok, encoded, acc, data)
    out["s_dev_evaluation"] = _timed(lambda: evaluate_split(ev, gen, "dev", loader=loader), 1, dev, warmup=False)
    out["s_dev_greedy_decoding"] = _timed(lambda: task.predict(gen, loader, acc), 1, dev, warmup=False)
    out["s_dev_teacher_forced_nll"] = _timed(lambda: teacher_forced_nll(gen, loader, acc), 1, dev, warmup=False)
    steps = math.ceil(targs.num_train_epochs * len(batches_idx))
    evals = math.ceil(steps / (targs.eval_every or len(batches_idx)))
    out.update({"run_steps": steps, "run_dev_evaluations": evals,
                "run_implied_training_s": steps * t_step + evals * out["s_dev_evaluation"]})
    shares = ", ".join(f"{k} {out[f'share_{k}']:.0%}" for k in [*parts, "other"])
    print(f"[pos] {t_step * 1e3:.0f} ms/step ({tokens / t_step:,.0f} tokens/s, {out['gflops_per_s']:.1f} GFLOP/s): "
          f"{shares}; padding {out['padded_over_real_mean']:.3f}x; dev evaluation {out['s_dev_evaluation']:.1f} s "
          f"(greedy {out['s_dev_greedy_decoding']:.1f} s, NLL {out['s_dev_teacher_forced_nll']:.1f} s); the default "
          f"run: {steps} steps + {evals} dev evaluations = {out['run_implied_training_s'] / 60:.1f} min; "
          + "; ".join(f"{k} {out[f'ms_{k}']:.0f} ms (was {out[f'ms_{k}_replaced']:.0f} ms)" for k in replaced),
          file=sys.stderr)
    return out


def bench_viterbi(args) -> dict:
    """Viterbi sentences/s of the linear-chain CRF: 17 UPOS tags, EWT dev sentence lengths, batches of 64."""
    from seqgan.config import DataArguments
    from seqgan.models.crf import LinearChainCRF
    from seqgan.tasks import get_task

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    data = get_task("pos").load_splits(DataArguments(task="pos", data_dir=args.data_dir))
    lengths = sorted(len(w) for w in data["dev"]["words"])
    g = torch.Generator().manual_seed(args.seed)
    crfs = []
    for i in range(0, len(lengths), 64):
        L = torch.tensor(lengths[i:i + 64])
        em = torch.randn(len(L), int(L.max()), 17, generator=g).to(dev)
        crfs.append((em, torch.randn(17, 17, generator=g).to(dev), torch.arange(int(L.max()))[None] < L[:, None]))

    def decode_all():
        for em, tr, mask in crfs:
            LinearChainCRF(em, tr, mask=mask.to(dev)).argmax

    t = _timed(decode_all, 3, dev)
    print(f"[viterbi] {len(lengths) / t:,.0f} sentences/s ({len(lengths)} EWT dev sentences)", file=sys.stderr)
    return {"sentences": len(lengths), "sentences_per_s": len(lengths) / t, "tags": 17}


def bench_decode(args) -> dict:
    """Greedy tagging words/s of each default-size pos model on EWT dev, through the function scripts/generate.py
    tags with (tasks/pos.py tag_word_lists, batches of 64): the MLE tagger (autoregressive tag decoder), the CRF
    (Viterbi) and --method energy's inference network (one forward pass). Fresh weights: speed does not depend on
    them. All three timed in the same run, so their ratios hold on a busy machine."""
    from seqgan.tasks import get_task, parse_args

    task = get_task("pos")
    data_flags = ["--data_dir", args.data_dir] if args.data_dir else []
    data, model_args, _, _, _ = parse_args(["--task", "pos", *data_flags])
    splits = task.load_splits(data)
    tok = task.build_tokenizer(splits, model_args, data)  # the word table: the same for every method
    sentences = splits["dev"]["words"]
    words = sum(map(len, sentences))
    out = {}
    for method, build in (("mle", "build_generator"), ("crf", "build_crf"), ("energy", "build_energy")):
        data, model_args, _, _, crf = parse_args(["--task", "pos", "--method", method, *data_flags])
        extra = (crf.energy_term_list,) if method == "energy" else ()
        gen = getattr(task, build)(tok, model_args, data, splits["train"], *extra)
        t = _timed(lambda: task.tag_word_lists(gen, tok, sentences, batch_size=64), 1, torch.device("cpu"))
        out[f"{method}_words_per_s"] = words / t
        print(f"[decode] {method}: {words / t:,.0f} words/s ({words} EWT dev words, {t:.1f} s)", file=sys.stderr)
    out["energy_over_mle"] = out["energy_words_per_s"] / out["mle_words_per_s"]
    return out


def default_commands(steps: int) -> list[tuple[str, list[str]]]:
    """(name, argv) of every default a user runs, in order: the pos, text and oracle MLE runs (train.py), a GAN run
    per bridge from the oracle run, and the temperature sweep of it (evaluate.py). {out} is the run folder."""
    from seqgan.training.bridges import BRIDGES

    cap = ["--max_steps", str(steps)] if steps else []
    gan_cap = ["--adv_steps", str(steps), "--d_pretrain_steps", str(steps)] if steps else []
    return [*[(task, ["scripts/train.py", "--task", task, *cap, "--output_dir", f"{{out}}/{task}"])
              for task in ("pos", "text", "oracle")],
            *[(f"gan-{b}", ["scripts/train.py", "--task", "oracle", "--method", "gan", "--bridge", b,
                            "--init_from", "{out}/oracle", *gan_cap, "--output_dir", f"{{out}}/gan-{b}",
                            *(["--disc_causal"] if b == "dense" else [])])  # dense scores every prefix
              for b in BRIDGES],
            ("sweep", ["scripts/evaluate.py", "--checkpoint", "{out}/oracle",
                       "--temperatures", "0.8,0.9,1.0,1.1,1.2"])]


def bench_defaults(args) -> dict:
    """Wall seconds of every default command (default_commands), each run in its own process from this code and,
    with --baseline_ref, from that commit's code (`git archive`d to a temporary folder), one after the other, so a
    noisy machine still compares the two fairly: the ratio baseline / this code is measured in the same run."""
    import subprocess
    import tempfile

    commands = default_commands(args.default_steps)
    wanted = [c[0] for c in commands] if args.default_commands == "all" else args.default_commands.split(",")
    if set(wanted) - {c[0] for c in commands} or (
            "oracle" not in wanted and any(w.startswith("gan") or w == "sweep" for w in wanted)):
        raise SystemExit(f"--default_commands: choose from {', '.join(c[0] for c in commands)} (gan-* and sweep "
                         f"need oracle); got {args.default_commands}.")
    commands = [c for c in commands if c[0] in wanted]
    here = Path(__file__).resolve().parents[1]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if args.data_dir or "SEQGAN_DATA_DIR" in os.environ:  # the baseline runs in another folder: make it absolute
        env["SEQGAN_DATA_DIR"] = str(Path(args.data_dir or os.environ["SEQGAN_DATA_DIR"]).resolve())
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        codes = {"this": here}
        if args.baseline_ref:
            codes["baseline"] = Path(tmp) / "baseline-code"
            codes["baseline"].mkdir()
            archive = subprocess.run(["git", "-C", str(here), "archive", args.baseline_ref], check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(codes["baseline"])], input=archive, check=True)
            # pyproject.toml installs tasks/ as seqgan.tasks: from a plain folder that takes a link, or the
            # baseline would import this checkout's installed task modules
            (codes["baseline"] / "seqgan" / "tasks").symlink_to("../tasks")
        for name, argv in commands:
            for code_name, code in codes.items():
                runs = Path(tmp) / f"runs-{code_name}"
                cmd = [sys.executable, *[a.replace("{out}", str(runs)) for a in argv]]
                start = time.perf_counter()
                done = subprocess.run(cmd, cwd=code, env={**env, "PYTHONPATH": str(code)}, capture_output=True,
                                      text=True)
                if done.returncode:
                    raise RuntimeError(f"defaults: {' '.join(argv)} failed with the {code_name} code:\n"
                                       f"{done.stderr[-2000:]}")
                out[f"{code_name}_{name}_s"] = time.perf_counter() - start
            if "baseline" in codes:
                out[f"baseline_over_this_{name}"] = out[f"baseline_{name}_s"] / out[f"this_{name}_s"]
            print(f"[defaults] {name}: " + ", ".join(f"{c} {out[f'{c}_{name}_s']:.1f} s" for c in codes),
                  file=sys.stderr)
    out["steps_cap"] = args.default_steps
    return out


SECTIONS = {"matmul": bench_matmul, "pos": bench_pos, "mle": bench_mle, "peer": bench_peer, "gan": bench_gan,
            "rollout": bench_rollout, "bleu": bench_bleu, "viterbi": bench_viterbi, "decode": bench_decode,
            "defaults": bench_defaults}


def environment() -> dict:
    return {
        "device": "cuda:" + torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "cpu_model": cpu_model(),
        "cpu_bf16": cpu_bf16_support(),
        "torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(), "python": platform.python_version(),
        "torch": torch.__version__, "platform": platform.platform(),
    }


def markdown(report: dict) -> str:
    env = report["environment"]
    lines = [f"Environment: {env['device']} ({env['cpu_model']}; bf16 instructions: {env['cpu_bf16']}), "
             f"{env['torch_threads']} threads, torch {env['torch']}", "", "| section | figure | value |",
             "|---|---|---|"]
    for name, res in report["sections"].items():
        for k, v in res.items():
            if isinstance(v, float):
                lines.append(f"| {name} | {k} | {v:.4g} |")
            elif isinstance(v, (int, bool)):
                lines.append(f"| {name} | {k} | {v} |")
    lines.append(f"\nPeak RSS: {report['peak_rss_mib']:.0f} MiB")
    return "\n".join(lines)


PER_PRECISION = ("matmul", "mle", "gan", "peer")  # sections that time each of --precisions


def in_processes(name: str, args) -> dict:
    """Section `name` with each of --precisions in its own process (this script, one precision each): accelerate's
    process-wide state, autocast caches and the allocator of one precision never touch the next one's timing.
    The reports' figures are merged (every key names its precision), then the ratios between precisions added."""
    import json
    import subprocess
    import tempfile

    out = {}
    flags = [x for k, v in asdict(args).items() if v is not None and k not in ("precisions", "output")
             for x in (f"--{k}", str(v))]
    with tempfile.TemporaryDirectory() as tmp:
        for p in _precisions(args):
            report = Path(tmp) / f"{p}.json"
            subprocess.run([sys.executable, __file__, name, *flags, "--precisions", p, "--output_file", str(report)],
                           check=True, stdout=subprocess.DEVNULL)  # its figures still print on stderr
            out.update(json.loads(report.read_text())["sections"][name])
    ps = _precisions(args)
    if name == "mle" and len(ps) > 1:
        out[f"{ps[1]}_over_{ps[0]}_seqgan"] = out[f"{ps[1]}_seqgan_tokens_per_s"] / out[f"{ps[0]}_seqgan_tokens_per_s"]
    return out


def main(argv: list[str] | None = None) -> dict:
    args, rest = make_parser(BenchmarkArguments).parse_args_into_dataclasses(
        args=renamed_flags(list(sys.argv[1:] if argv is None else argv), OUTPUT_RENAMED),
        return_remaining_strings=True)
    names = list(SECTIONS) if rest == ["all"] else rest
    unknown = [n for n in names if n not in SECTIONS]
    if not names or unknown:
        raise SystemExit(f"benchmark.py: name sections to run ({', '.join(SECTIONS)}) or 'all'; got "
                         f"{rest or 'nothing'}.")
    quiet_libraries()
    if "SEQGAN_NUM_THREADS" in os.environ:
        torch.set_num_threads(int(os.environ["SEQGAN_NUM_THREADS"]))
    report = {"environment": environment(), "args": asdict(args), "sections": {}}
    for name in names:
        torch.manual_seed(args.seed)
        several = name in PER_PRECISION and len(_precisions(args)) > 1
        report["sections"][name] = in_processes(name, args) if several else SECTIONS[name](args)
    report["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    write_json_atomic(args.output_file, report)
    table = markdown(report)
    write_text_atomic(os.path.splitext(args.output_file)[0] + ".md", table + "\n")
    print(table)
    return report


def cli() -> None:
    """The seqgan-benchmark command (pyproject.toml [project.scripts]); `python scripts/benchmark.py` runs the same."""
    run(main)


if __name__ == "__main__":
    cli()
