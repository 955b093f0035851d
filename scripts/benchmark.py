#!/usr/bin/env python
"""Benchmarks: time seqgan's hot paths and check each against a reference in the same run.

    python scripts/benchmark.py all --output runs/benchmark.json   # every section below, one JSON report + table
    python scripts/benchmark.py mle       # MLE tokens/s: seqgan's loop vs a plain PyTorch loop, same model
    python scripts/benchmark.py gan       # seconds per adversarial round, each bridge
    python scripts/benchmark.py rollout   # SeqGAN rollout rewards: cached + batched vs naive re-encoding
    python scripts/benchmark.py bleu      # test-BLEU-2..5 and self-BLEU-2..5 at 10,000 samples, vs nltk
    python scripts/benchmark.py viterbi   # CRF Viterbi sentences/s

Each section prints its figures; all of them go into one JSON report (--output, written atomically)
and a markdown table. The device is the GPU when there is one, else the CPU; set
SEQGAN_NUM_THREADS to fix the CPU thread count.
"""

from __future__ import annotations

import os
import platform
import random
import resource
import sys
import time
from dataclasses import asdict, dataclass, field

import torch
from transformers import HfArgumentParser

from seqgan.checkpoint import write_json_atomic, write_text_atomic
from seqgan.config import quiet_libraries


@dataclass
class BenchmarkArguments:
    output: str = field(default="runs/benchmark.json", metadata={"help": "JSON report (a .md table is written beside it)."})
    data_dir: str | None = field(default=None, metadata={"help": "Data folder (default: $SEQGAN_DATA_DIR)."})
    seed: int = field(default=0, metadata={"help": "Seed for every sampled input."})
    nltk_check: int = field(default=20, metadata={"help": "bleu: hypotheses re-scored with nltk to check exactness."})
    bleu_samples: int = field(default=10000, metadata={"help": "bleu: hypotheses (COCO training captions) to score."})
    oracle_checkpoint: str = field(default="runs/oracle-mle", metadata={
        "help": "rollout/mle/gan: the oracle generator to time (a fresh default-size one if the folder is missing)."})
    rollout_batch: int = field(default=64, metadata={"help": "rollout: sampled sequences (batch)."})
    num_rollouts: int = field(default=16, metadata={"help": "rollout: Monte-Carlo completions per prefix."})
    rollout_max_rows: int = field(default=1216, metadata={"help": "rollout: rows per chunk of the cached version on CPU."})
    rollout_generator_flags: str = field(default="", metadata={
        "help": "rollout: time a fresh oracle generator built with these train.py model flags instead of "
                "--oracle_checkpoint, e.g. '--num_layers 6 --hidden_size 256' (how the ratio scales with G's body)."})
    steps: int = field(default=30, metadata={"help": "mle: timed training steps of each loop."})
    gan_rounds: int = field(default=5, metadata={"help": "gan: timed adversarial rounds per bridge."})


def _data_file(args, rel: str) -> str:
    from seqgan.data import resolve_data_file

    return str(resolve_data_file(rel, args.data_dir))


def bench_bleu(args) -> dict:
    """Test-BLEU-2..5 of 10,000 hypotheses against the 10,000 COCO test references; self-BLEU-2..5 of
    10,000 samples. Hypotheses are COCO training captions (whitespace tokens), so no model is needed;
    a seeded subsample is re-scored with nltk's sentence_bleu in the same run."""
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    from seqgan.bleu import BleuReferences, self_bleu_scores, test_bleu

    refs = [l.split() for l in open(_data_file(args, "coco/test_coco.txt")).read().splitlines()]
    hyps = [l.split() for l in open(_data_file(args, "coco/image_coco.txt")).read().splitlines()][: args.bleu_samples]
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
    from seqgan.config import parse_args
    from tasks import get_task

    task = get_task("oracle")
    if os.path.isdir(args.oracle_checkpoint) and not flags:
        gen, tok, _ = load_checkpoint(args.oracle_checkpoint, task)
        source = args.oracle_checkpoint
    else:
        data, model, _, _, _ = parse_args(["--task", "oracle", *flags.split()])
        tok = task.build_tokenizer(None, model)
        gen = task.build_generator(tok, model, data)
        source = f"fresh oracle generator ({flags or 'default size; no checkpoint found'})"
    return gen.eval(), tok, source


def bench_rollout(args) -> dict:
    """SeqGAN rewards for batch 64, length 20, 16 rollouts: cached + batched vs naive re-encoding, same G and D.

    Timing runs in float32. Equality is checked on the same models cast to float64, where rounding
    cannot move a sampling boundary: identical completions and rewards under the same seed. In
    float32 the implementations' logits differ in the last bit, which flips a draw now and then.
    D's scoring of the completions (the same work in every implementation) is also timed alone, so the
    report gives the speed-up of the whole reward computation and of the completions themselves."""
    from seqgan.config import GanArguments
    from seqgan.discriminator import build_discriminator
    from seqgan.rollout import draw_uniforms, rollout_rewards, rollouts_cached, score_completions

    gen, tok, source = _oracle_generator(args, args.rollout_generator_flags)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    gen = gen.to(dev)
    disc = build_discriminator(gen.vocab_size, GanArguments(), 0, 64).to(dev).eval()
    B, N = args.rollout_batch, args.num_rollouts
    with torch.no_grad():
        s = gen.sample(num_samples=B, generator=torch.Generator(device=dev).manual_seed(args.seed))

    def run(g, d, impl, max_rows=None):
        fn = lambda tokens, mask, rows: d.score(tokens=tokens, mask=mask)  # noqa: E731
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        q = rollout_rewards(g, fn, None, s.tokens, s.mask, None, N, torch.Generator(device=dev).manual_seed(args.seed + 1),
                            impl=impl, max_rows=max_rows)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        return q, time.perf_counter() - t0

    max_rows = None if dev.type == "cuda" else args.rollout_max_rows  # CPU: cache-sized chunks are fastest
    q_c, t_c = run(gen, disc, "cached", max_rows)
    q_p, t_p = run(gen, disc, "prefix")
    q_r, t_r = run(gen, disc, "reencode")
    # Both sides also pay D's scoring of the N x (T-1) x B completions, identical work that no rollout
    # implementation can avoid: time it alone, to report the speed-up of the completions themselves.
    with torch.no_grad():
        u = draw_uniforms(N, B, s.tokens.shape[1], torch.Generator(device=dev).manual_seed(args.seed + 1), dev)
        comp, cmask = rollouts_cached(gen, None, s.tokens, s.mask, None, u, max_rows)
        t0 = time.perf_counter()
        score_completions(lambda tokens, mask, rows: disc.score(tokens=tokens, mask=mask), comp, cmask)
        t_d = time.perf_counter() - t0
    g64, d64 = gen.double(), disc.double()
    e_c, _ = run(g64, d64, "cached", max_rows)
    e_r, _ = run(g64, d64, "reencode")
    e_p, _ = run(g64, d64, "prefix")
    out = {"model": source, "batch": B, "length": s.tokens.shape[1], "rollouts": N, "rows_per_chunk": max_rows or B * N * 19,
           "cached_seconds": t_c, "naive_reencode_seconds": t_r, "naive_prefix_seconds": t_p,
           "speedup_vs_reencode": t_r / t_c, "speedup_vs_prefix": t_p / t_c, "d_scoring_seconds": t_d,
           "completions_speedup_vs_reencode": (t_r - t_d) / max(t_c - t_d, 1e-9),
           "float64_rewards_identical": bool(torch.equal(e_c, e_r) and torch.equal(e_c, e_p)),
           "float32_max_reward_diff": (q_c - q_r).abs().max().item()}
    print(f"[rollout] cached {t_c:.2f} s, naive re-encoding {t_r:.2f} s ({t_r / t_c:.1f}x), per-prefix cached "
          f"{t_p:.2f} s ({t_p / t_c:.1f}x); D scoring alone {t_d:.2f} s of each; "
          f"float64 rewards identical: {out['float64_rewards_identical']}", file=sys.stderr)
    return out


def _oracle_batches(args, n: int, batch_size: int, device):
    """n real oracle batches (from real_data.txt), collated and on the device."""
    from seqgan.config import DataArguments
    from tasks import get_task

    task = get_task("oracle")
    gen, tok, _ = _oracle_generator(args)
    data = task.load_splits(DataArguments(task="oracle", data_dir=args.data_dir, dev_size=10, test_size=10))
    rows = list(task.encode(data["train"], tok, gen))
    collate = task.collator(tok)
    return [{k: v.to(device) for k, v in collate(rows[i * batch_size:(i + 1) * batch_size]).items()} for i in range(n)]


def _timed(fn, steps: int, device) -> float:
    fn()  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / steps


def bench_mle(args) -> dict:
    """MLE tokens/s of the oracle generator: seqgan's training step (Objective through accelerate, the
    non-finite guard, clipping) against a plain PyTorch loop over the same model and batches."""
    from accelerate import Accelerator

    from seqgan.losses import Objective, mle_loss, mle_objective

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    batches = _oracle_batches(args, args.steps, 64, dev)
    tokens = sum(int(b["mask"].sum()) for b in batches) / len(batches)
    gen, _, source = _oracle_generator(args)
    gen = gen.to(dev).train()
    acc = Accelerator(cpu=dev.type == "cpu")
    model, opt = acc.prepare(Objective(gen, mle_objective), torch.optim.AdamW(gen.parameters(), lr=1e-4))
    it = iter(range(10 ** 9))

    def seqgan_step():
        batch = batches[next(it) % len(batches)]
        with acc.accumulate(model):
            loss = model(batch)
            ok = acc.gather(torch.isfinite(loss)[None]).all()  # what the guard adds: one all-process check
            if ok:
                acc.backward(loss)
                acc.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                opt.zero_grad()

    plain_gen, _, _ = _oracle_generator(args)
    plain_gen = plain_gen.to(dev).train()
    plain_opt = torch.optim.AdamW(plain_gen.parameters(), lr=1e-4)

    def plain_step():
        batch = batches[next(it) % len(batches)]
        loss = mle_loss(plain_gen(batch), batch["labels"], batch["mask"])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(plain_gen.parameters(), 1.0)
        plain_opt.step()
        plain_opt.zero_grad()

    t_seq, t_plain = _timed(seqgan_step, args.steps, dev), _timed(plain_step, args.steps, dev)
    out = {"model": source, "batch": 64, "tokens_per_step": tokens, "seqgan_tokens_per_s": tokens / t_seq,
           "plain_pytorch_tokens_per_s": tokens / t_plain, "seqgan_over_plain": t_plain / t_seq}
    print(f"[mle] seqgan {tokens / t_seq:,.0f} tokens/s, plain PyTorch {tokens / t_plain:,.0f} tokens/s "
          f"(ratio {t_plain / t_seq:.2f})", file=sys.stderr)
    return out


def bench_gan(args) -> dict:
    """Seconds per adversarial round (one D step + one G step, batch 64) for each bridge on the oracle task."""
    from accelerate import Accelerator

    from seqgan.bridges import BRIDGES, BridgeContext
    from seqgan.config import GanArguments
    from seqgan.discriminator import build_discriminator
    from seqgan.gan import GanModels, d_step, g_step
    from seqgan.losses import LOSSES

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    batches = _oracle_batches(args, 4, 64, dev)
    acc = Accelerator(cpu=dev.type == "cpu")
    out = {}
    for bridge in BRIDGES:
        gargs = GanArguments(bridge=bridge, disc_causal=bridge == "dense", gan_loss="rsgan" if "gumbel" in bridge else "standard",
                             num_rollouts=args.num_rollouts, rollout_max_rows=args.rollout_max_rows if dev.type == "cpu" else 10 ** 9)
        gen, _, _ = _oracle_generator(args)
        gen = gen.to(dev).eval()
        disc = build_discriminator(gen.vocab_size, gargs, 0, 64).to(dev)
        ctx = BridgeContext(gen=gen, sampler=gen, disc=disc, loss=LOSSES[gargs.gan_loss], args=gargs, conditional=False,
                            total_steps=100, generator=torch.Generator(device=dev).manual_seed(args.seed), accelerator=acc)
        m = GanModels(gen, disc, torch.optim.AdamW(gen.parameters(), lr=1e-5), torch.optim.AdamW(
            [p for p in disc.parameters() if p.requires_grad], lr=1e-4), ctx, 1.0)
        i = iter(range(10 ** 9))

        def one_round():
            d_step(acc, m, batches[next(i) % 4])
            disc.eval()
            g_step(acc, m, batches[next(i) % 4])

        out[f"{bridge}_seconds_per_round"] = _timed(one_round, args.gan_rounds, dev)
        print(f"[gan] {bridge}: {out[f'{bridge}_seconds_per_round']:.3f} s per round", file=sys.stderr)
    return out


def bench_viterbi(args) -> dict:
    """Viterbi sentences/s of the linear-chain CRF: 17 UPOS tags, EWT dev sentence lengths, batches of 64."""
    from seqgan.config import DataArguments
    from seqgan.crf import LinearChainCRF
    from tasks import get_task

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


SECTIONS = {"mle": bench_mle, "gan": bench_gan, "rollout": bench_rollout, "bleu": bench_bleu, "viterbi": bench_viterbi}


def environment() -> dict:
    return {
        "device": "cuda:" + torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(), "python": platform.python_version(),
        "torch": torch.__version__, "platform": platform.platform(),
    }


def markdown(report: dict) -> str:
    lines = [f"Environment: {report['environment']['device']}, {report['environment']['torch_threads']} threads, "
             f"torch {report['environment']['torch']}", "", "| section | figure | value |", "|---|---|---|"]
    for name, res in report["sections"].items():
        for k, v in res.items():
            if isinstance(v, float):
                lines.append(f"| {name} | {k} | {v:.4g} |")
            elif isinstance(v, (int, bool)):
                lines.append(f"| {name} | {k} | {v} |")
    lines.append(f"\nPeak RSS: {report['peak_rss_mib']:.0f} MiB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    args, rest = HfArgumentParser(BenchmarkArguments).parse_args_into_dataclasses(args=argv, return_remaining_strings=True)
    names = list(SECTIONS) if rest == ["all"] else rest
    unknown = [n for n in names if n not in SECTIONS]
    if not names or unknown:
        raise SystemExit(f"benchmark.py: name sections to run ({', '.join(SECTIONS)}) or 'all'; got {rest or 'nothing'}.")
    quiet_libraries()
    if "SEQGAN_NUM_THREADS" in os.environ:
        torch.set_num_threads(int(os.environ["SEQGAN_NUM_THREADS"]))
    report = {"environment": environment(), "args": asdict(args), "sections": {}}
    for name in names:
        torch.manual_seed(args.seed)
        report["sections"][name] = SECTIONS[name](args)
    report["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    write_json_atomic(args.output, report)
    table = markdown(report)
    write_text_atomic(os.path.splitext(args.output)[0] + ".md", table + "\n")
    print(table)
    return report


if __name__ == "__main__":
    main()
