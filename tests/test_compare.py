"""scripts/compare.py: one markdown table of every run of a task, from the runs' evaluation JSONs."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import load_script
from seqgan.tasks import get_task

ROOT = Path(__file__).resolve().parents[1]


def seqgan_rows(lines):
    """The table's rows without the task's published anchors (tasks/<task>.py PUBLISHED), which come last."""
    return [ln for ln in lines[2:] if not ln.startswith("| published: ")]


def write_run(runs, name, method, metrics, extra=None, **files):
    d = runs / name
    d.mkdir(parents=True)
    (d / "eval_test.json").write_text(json.dumps({"task": "oracle", "method": method, **(extra or {}), **metrics}))
    for fname, content in files.items():
        (d / f"{fname}.json").write_text(json.dumps(content))


def test_compare_orders_methods_and_keeps_last_only_when_it_differs(tmp_path):
    runs = tmp_path / "runs"
    gan = {"bridge": "reinforce", "gan_loss": "standard"}
    write_run(runs, "a-gan", "gan", {"test/nll_oracle": 8.4, "test/nll_test": 8.5,
                                     "last/test/nll_oracle": 9.2, "last/test/nll_test": 8.7}, gan)
    write_run(runs, "b-gan", "gan", {"test/nll_oracle": 8.0, "test/nll_test": 8.1,
                                     "last/test/nll_oracle": 8.0, "last/test/nll_test": 8.1}, gan)
    write_run(runs, "z-mle", "mle", {"test/nll_oracle": 8.883, "test/nll_test": 8.305},
              eval_test_greedy={"test/nll_oracle": 5.357, "test/nll_test": 8.305, "test/decoding": "greedy"})
    write_run(runs, "m-crf", "crf", {"test/nll_oracle": 10.6}, {"crf_loss": "nll"})
    # eval_test.json does not record a GAN's recipe; the label reads it from the run's args.json.
    write_run(runs, "c-gan", "gan", {"test/nll_oracle": 8.2, "test/nll_test": 8.3}, gan,
              args={"bridge": "reinforce", "cold_temperature": 0.7, "batch_size": 64, "task": "oracle"})
    write_run(runs, "d-gan", "gan", {"test/nll_oracle": 8.6, "test/nll_test": 8.4}, {**gan, "bridge": "dense"},
              args={"bridge": "dense", "dense_gamma": 0.23, "batch_size": 256, "cold_temperature": 1.0,
                    "task": "oracle"})
    (runs / "other").mkdir()  # not a run: ignored
    out = tmp_path / "table.md"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "compare.py"), "--task", "oracle", "--runs_dir",
                           str(runs),
                           "--output_file", str(out)], capture_output=True, text=True, check=True)
    lines = out.read_text().splitlines()
    assert proc.stdout.strip() == out.read_text().strip()
    assert lines[0] == "| method · run | NLL_oracle ↓ | NLL_test ↓ |"
    ours = seqgan_rows(lines)
    # Other papers' figures come last, labelled (tasks/oracle.py PUBLISHED).
    assert lines[len(ours) + 2:] == [f"| published: {label} | {m['nll_oracle']:.3f} | " +
                                     (f"{m['nll_test']:.3f}" if "nll_test" in m else "–") + " |"
                                     for label, m in get_task("oracle").PUBLISHED]
    assert ours == [
        "| G alone: MLE · `z-mle` | 8.883 | 8.305 |",
        "| G alone: MLE [greedy] · `z-mle` | 5.357 | 8.305 |",
        "| D alone: bigram (nll) · `m-crf` | 10.600 | – |",
        "| GAN (reinforce, standard) · `a-gan` | 8.400 | 8.500 |",
        "| GAN (reinforce, standard) [last] · `a-gan` | 9.200 | 8.700 |",
        "| GAN (reinforce, standard) · `b-gan` | 8.000 | 8.100 |",  # last == best: one row
        "| GAN (reinforce, standard, cold T=0.7) · `c-gan` | 8.200 | 8.300 |",
        "| GAN (dense, standard, γ=0.23, batch 256) · `d-gan` | 8.600 | 8.400 |",
    ]


def test_compare_without_runs_is_a_clear_error(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "compare.py"), "--task", "pos", "--runs_dir",
                           str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "no pos run with eval_test.json under" in proc.stderr
    with pytest.raises(subprocess.CalledProcessError):
        subprocess.run([sys.executable, str(ROOT / "scripts" / "compare.py"), "--task", "chess"], capture_output=True,
                       check=True)


def test_compare_places_the_generators_from_a_prior_and_arae(tmp_path):
    runs = tmp_path / "runs"
    write_run(runs, "o-ae", "ae", {"test/nll_oracle": 9.9, "test/nll_test": 8.0},
              eval_test_prior={"test/nll_oracle": 10.2, "test/nll_test": 8.4, "test/latent_prior": "standard"})
    write_run(runs, "o-lg", "latent-gan", {"test/nll_oracle": 9.5, "test/nll_test": 8.3})
    write_run(runs, "o-mle", "mle", {"test/nll_oracle": 8.883, "test/nll_test": 8.305})
    write_run(runs, "o-rc", "random-code", {"test/nll_oracle": 10.1, "test/nll_test": 7.8})
    write_run(runs, "o-vae", "vae", {"test/nll_oracle": 9.0, "test/nll_test": 7.9})
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "compare.py"), "--task", "oracle", "--runs_dir",
                          str(runs)],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert seqgan_rows(out) == [  # G alone (alphabetical by run), then the GANs
        "| G alone: autoencoder (NLL: IWAE bound) · `o-ae` | 9.900 | 8.000 |",
        "| G alone: autoencoder (NLL: IWAE bound) [N(0, I) codes] · `o-ae` | 10.200 | 8.400 |",
        "| G alone: MLE · `o-mle` | 8.883 | 8.305 |",
        "| G alone: random codes (NLL: IWAE bound) · `o-rc` | 10.100 | 7.800 |",
        "| G alone: VAE (NLL: IWAE bound) · `o-vae` | 9.000 | 7.900 |",
        "| GAN (latent codes, ARAE; NLL: IWAE bound) · `o-lg` | 9.500 | 8.300 |",
    ]


def test_runs_of_one_configuration_over_seeds_become_mean_std_n(tmp_path):
    runs = tmp_path / "runs"
    for seed, (a, b) in zip((42, 43, 44), ((9.0, 8.0), (9.2, 8.1), (9.4, 8.3))):
        write_run(runs, f"o-vae-seed{seed}", "vae", {"test/nll_oracle": a, "test/nll_test": b})
    write_run(runs, "o-ae-seed42", "ae", {"test/nll_oracle": 9.9, "test/nll_test": 8.0})
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "compare.py"), "--task", "oracle", "--runs_dir",
                          str(runs)],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    # sample std of 8.0, 8.1, 8.3: sqrt(((-.1333)^2 + (-.0333)^2 + .1667^2) / 2) = 0.1528
    assert seqgan_rows(out) == ["| G alone: autoencoder (NLL: IWAE bound) · `o-ae` | 9.900 (n=1) | 8.000 (n=1) |",
                       "| G alone: VAE (NLL: IWAE bound) · `o-vae` | 9.200 ± 0.200 (n=3) | 8.133 ± 0.153 (n=3) |"]


def test_a_last_row_over_seeds_counts_the_seeds_whose_last_state_was_their_best(tmp_path):
    # Seed 42's dev pick is an earlier round; seeds 43 and 44 ended at their best state, whose figures are their
    # last state's too: the [last] row is the mean over all three seeds, not seed 42 alone.
    runs = tmp_path / "runs"
    gan = {"bridge": "reinforce", "gan_loss": "standard"}
    for seed, best, last in ((42, 8.0, 9.0), (43, 8.3, 8.3), (44, 8.6, 8.6)):
        write_run(runs, f"o-gan-seed{seed}", "gan", {"test/nll_oracle": best, "test/nll_test": 8.0,
                                                   "last/test/nll_oracle": last, "last/test/nll_test": 8.0}, gan)
    # Every seed ended at its best: no [last] row.
    for seed in (42, 43):
        write_run(runs, f"p-gan-seed{seed}", "gan", {"test/nll_oracle": 7.0, "test/nll_test": 7.5,
                                                   "last/test/nll_oracle": 7.0, "last/test/nll_test": 7.5}, gan)
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "compare.py"), "--task", "oracle", "--runs_dir",
                          str(runs)], capture_output=True, text=True, check=True).stdout.splitlines()
    # last: 9.0, 8.3, 8.6 -> mean 8.633, sample std sqrt((.3667^2 + .3333^2 + .0333^2) / 2) = 0.351
    assert seqgan_rows(out) == [
        "| GAN (reinforce, standard) · `o-gan` | 8.300 ± 0.300 (n=3) | 8.000 ± 0.000 (n=3) |",
        "| GAN (reinforce, standard) [last] · `o-gan` | 8.633 ± 0.351 (n=3) | 8.000 ± 0.000 (n=3) |",
        "| GAN (reinforce, standard) · `p-gan` | 7.000 ± 0.000 (n=2) | 7.500 ± 0.000 (n=2) |",
    ]


def test_guided_and_gan_rows_get_their_gap_to_the_same_seeds_mle_curve(tmp_path):
    runs = tmp_path / "runs"
    guide = {"test/guide_method": "sir", "test/guide_candidates": 8, "test/guide_gamma": 1.0}
    gaps = (0.10, 0.12, 0.14), (0.30, -0.20, 0.40)  # per seed: guided (beyond MLE), GAN (spread too wide)
    for seed, g, a in zip((42, 43, 44), *gaps):
        # MLE's curve for this seed: NLL_test = 8 + (10 - NLL_oracle) / 2 between NLL_oracle 9 and 10.
        curve = [{"checkpoint": str(runs / f"o-mle-seed{seed}" / "best"), "nll_oracle": x,
                  "nll_test": 8 + (10 - x) / 2}
                 for x in (9.0, 9.5, 10.0)]
        write_run(runs, f"o-mle-seed{seed}", "mle", {"test/nll_oracle": 10.0, "test/nll_test": 8.0},
                  sweep_test={"rows": curve},
                  **{"eval_test_guide-sir-K8-g1": {"test/nll_oracle": 9.6, "test/nll_test": 8.2 - g, **guide}})
        write_run(runs, f"o-gan-seed{seed}", "gan", {"test/nll_oracle": 9.4, "test/nll_test": 8.3 - a},
                  {"bridge": "reinforce", "gan_loss": "standard", "start": str(runs / f"o-mle-seed{seed}")})
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "compare.py"), "--task", "oracle", "--runs_dir",
                          str(runs)],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == "| method · run | NLL_oracle ↓ | NLL_test ↓ | gap NLL_test @ NLL_oracle |"
    # MLE itself has no gap; the guided rows are 0.12 ± 0.02 beyond (> 2 std); the GAN's 0.167 ± 0.32 is not.
    assert out[2] == "| G alone: MLE · `o-mle` | 10.000 ± 0.000 (n=3) | 8.000 ± 0.000 (n=3) | – |"
    assert out[3] == ("| G + D: MLE sampled by D's ratio (SIR, K=8, γ=1) · `o-mle` | 9.600 ± 0.000 (n=3) | 8.080 ± "
                      "0.020 (n=3) | +0.1200 ± 0.0200 (n=3) beyond |")
    assert out[4] == ("| GAN (reinforce, standard) · `o-gan` | 9.400 ± 0.000 (n=3) | 8.133 ± 0.321 (n=3) "
                      "| +0.1667 ± 0.3215 (n=3) |")
    # A published point gets its gap to each seed's MLE curve: (9.01, 7.73) lies 8.495 - 7.73 beyond it; (8.28, 8.06)
    # is outside the swept range.
    published = {ln.split(" | ")[0][len("| published: "):]: ln for ln in out if ln.startswith("| published: ")}
    assert published["tuned MLE (Caccia et al. 2020), T > 1"] == ("| published: tuned MLE (Caccia et al. 2020), T > 1 "
                                                                  "| "
                                                                 "9.010 | 7.730 | +0.7650 ± 0.0000 (n=3) beyond |")
    assert published["tuned MLE (Caccia et al. 2020), T = 1"].endswith("| 8.280 | 8.060 | – |")


def test_text_d_alone_data_and_published_points_get_the_gap_their_metrics_allow(tmp_path):
    # MLE's curve (same every seed): BLEU-5 = self-BLEU-5 / 2 between self-BLEU-5 0.3 and 0.8, NLL = 4 - BLEU-5.
    runs = tmp_path / "runs"
    for seed in (42, 43, 44):
        run = runs / f"t-mle-seed{seed}"
        curve = [{"checkpoint": str(run / "best"), "self_bleu_5": x, "bleu_5": x / 2, "nll": 4 - x / 2}
                 for x in (0.3, 0.5, 0.8)]
        write_run(runs, run.name, "mle", {"test/nll": 3.6, "test/bleu_5": 0.25, "test/self_bleu_5": 0.5},
                  {"task": "text"}, sweep_test={"rows": curve})
        # D alone trains no generator: its gap is to the MLE curve of its own --seed (BLEU-5 0.15, 0.16, 0.17 at 0.4).
        write_run(runs, f"t-crf-nll-seed{seed}", "crf", {"test/nll": 4.3, "test/bleu_5": 0.1 + (seed - 37) / 100,
                                                        "test/self_bleu_5": 0.4}, {"task": "text", "crf_loss": "nll"},
                  args={"task": "text", "method": "crf", "seed": seed})
        (run / "args.json").write_text(json.dumps({"task": "text", "method": "mle", "seed": seed}))
    # Real sentences scored by scripts/score_text.py: BLEU-5 0.21 at self-BLEU-5 0.4, where the curve has 0.2.
    scores = tmp_path / "data.json"
    scores.write_text(json.dumps({"test_bleu": {"2": 0.7, "5": 0.21}, "self_bleu": {"5": 0.4}, "unique_ratio": 1.0,
                                  "files": {"hypotheses": "some/dir/captions.txt"}}))
    out = load_script("compare").main(["--task", "text", "--runs_dir", str(runs), "--data_scores",
                                       str(scores)]).splitlines()
    assert out[0].endswith("| unique | gap BLEU-5 @ self-BLEU-5 | gap NLL @ BLEU-5 |")
    # D's NLL 4.3 at BLEU-5 0.16, where the curve has 3.84: 0.46 nats inside it.
    assert out[3].startswith("| D alone: bigram (nll) · `t-crf-nll` |")
    assert out[3].endswith("| -0.0400 ± 0.0100 (n=3) | -0.4600 ± 0.0100 (n=3) |")
    # Sentences have no NLL, nor do the published points: no NLL gap.
    # No row has distinct-2: that column is left out.
    assert "distinct-2" not in out[0]
    assert out[4] == ("| data: captions.txt | – | 0.700 | 0.210 | 0.400 | 100.0% "
                      "| +0.0100 ± 0.0000 (n=3) beyond | – |")
    # These runs record no protocol (as before the switch): seqgan's; the published rows are marked as texygen's.
    marker = " [texygen protocol; these runs: seqgan]"
    published = {ln.split(" | ")[0][len("| published: "):].replace(marker, ""): " | ".join(ln.split(" | ")[-2:])
                 for ln in out if ln.startswith("| published: ") and ln.split(" | ")[0].endswith(marker)}
    assert list(published) == [label for label, _ in get_task("text").PUBLISHED]
    # Texygen's SeqGAN: BLEU-5 0.180 at self-BLEU-5 0.489, where the curve has 0.2445.
    assert published["Texygen (Zhu et al. 2018), SeqGAN"] == "-0.0645 ± 0.0000 (n=3) | – |"
    # The training captions: 0.218 at 0.415, curve 0.2075: beyond it.
    assert published["Texygen (Zhu et al. 2018), the training captions"] == "+0.0105 ± 0.0000 (n=3) beyond | – |"
    # RelGAN's BLEU-2 alone: no point on the plane.
    assert published["RelGAN (Nie et al. 2019), temperature 100"] == "– | – |"


def test_pos_rows_get_a_paired_bootstrap_against_the_mle_configuration(tmp_path):
    from seqgan.scoring.significance import paired_bootstrap
    runs, words = tmp_path / "runs", [10, 4, 7, 12, 5, 9]
    mle = {42: [1, 0, 1, 2, 0, 1], 43: [0, 0, 2, 1, 1, 1], 44: [1, 1, 1, 1, 0, 0]}
    crf = {42: [0, 0, 1, 1, 0, 1], 43: [0, 0, 1, 1, 0, 0], 44: [1, 0, 0, 1, 0, 0]}
    for seed in mle:
        for name, method, errs in (("p-mle", "mle", mle), ("p-crf", "crf", crf)):
            acc = 1 - sum(errs[seed]) / sum(words)
            write_run(runs, f"{name}-seed{seed}", method, {"test/accuracy": acc, "test/sentence_words": words,
                                                          "test/sentence_errors": errs[seed]},
                                                          {"task": "pos", "crf_loss": "nll"})
    compare, argv = load_script("compare"), ["--task", "pos", "--runs_dir", str(runs)]  # in-process: no start-up cost
    out = compare.main(argv).splitlines()
    assert out[0].endswith("| UPOS Δ points [95% CI], p (vs `p-mle`) |")
    assert out[2].startswith("| G alone: MLE · `p-mle` |") and out[2].endswith("| baseline |")
    # The CRF row: errors averaged over the three seeds per sentence, against MLE's, 10,000 resamples at seed 0.
    def mean(e):
        return [sum(c) / 3 for c in zip(*e.values())]

    r = paired_bootstrap(words, mean(crf), mean(mle))
    assert r["delta"] > 0
    # CRF has fewer errors on every sentence: no resample reaches the null, so p is below 1 / 10,000.
    assert r["p_value"] == 0.0 and r["ci_low"] > 0
    expected = f"{100 * r['delta']:+.2f} [{100 * r['ci_low']:+.2f}, {100 * r['ci_high']:+.2f}], p<0.0001"
    assert out[3].startswith("| D alone: CRF (nll) · `p-crf` |") and out[3].endswith(f"| {expected} |")
    assert [ln.split(" | ")[0] for ln in out[4:]] == [f"| published: {label}"
                                                      for label, _ in get_task("pos").PUBLISHED]
    # G + D as a product of experts, λ tuned on dev per seed (0.5, 1, inf): the seeds still share one row, also where
    # dev picked D's score alone (inf).
    for seed, lam in ((42, "0.5"), (43, "1"), (44, "inf")):
        acc = 1 - sum(crf[seed]) / sum(words)
        (runs / f"p-mle-seed{seed}" / "eval_test_rerank-poe_p-crf.json").write_text(json.dumps({
            "test/accuracy": acc, "test/sentence_words": words, "test/sentence_errors": crf[seed],
            "test/rerank_lambda": lam, "test/rerank_with": f"runs/p-crf-seed{seed}/best", "test/num_candidates": 8,
            "rerank_dev": {"0": 0.9, lam: 0.95}, "rerank_dev_metric": "dev/accuracy"}))
    out = compare.main(argv).splitlines()
    poe = [ln for ln in out if ln.startswith("| G + D")]
    assert len(poe) == 1 and poe[0].startswith("| G + D: MLE candidates (greedy + K=8) reranked by `p-crf` + log p_G "
                                               "(λ by dev/accuracy) · `p-mle` |")
    assert poe[0].endswith(f"(n=3) | {expected} |")  # the CRF's paired test (no other column measured)
    (runs / "p-mle-seed42" / "eval_test_rerank-sir_p-crf.json").write_text(json.dumps({
        "test/accuracy": 0.9, "test/rerank_lambda": "1", "test/rerank_method": "sir",
        "test/rerank_with": "runs/p-crf-seed42/best", "test/num_candidates": 8}))
    assert any(ln.startswith("| G + D: MLE, 1 of K=8 samples drawn ∝ exp(λ·`p-crf`) (λ=1) · `p-mle` | 90.00% (n=1) |")
               for ln in compare.main(argv).splitlines())
    # Two MLE configurations: the baseline must be named.
    write_run(runs, "q-mle-seed42", "mle", {"test/accuracy": 0.9, "test/sentence_words": words,
                                            "test/sentence_errors": mle[42]}, {"task": "pos"})
    with pytest.raises(ValueError, match="--baseline RUN"):
        compare.main(argv)
    out = compare.main(argv + ["--baseline", "q-mle"]).splitlines()
    assert out[0].endswith("(vs `q-mle`) |") and any(ln.endswith("| baseline |") and "q-mle" in ln for ln in out)


def test_text_runs_of_one_protocol_share_a_table_and_matching_anchors_are_unmarked(tmp_path):
    runs = tmp_path / "runs"
    for seed in (42, 43):
        write_run(runs, f"t-mle-seed{seed}", "mle", {"test/nll": 3.6, "test/bleu_5": 0.25, "test/self_bleu_5": 0.5,
                                                    "test/protocol": "texygen"}, {"task": "text"})
    scores = tmp_path / "data.json"
    scores.write_text(json.dumps({"test_bleu": {"5": 0.218}, "self_bleu": {"5": 0.415}, "protocol": "texygen",
                                  "files": {"hypotheses": "captions.txt"}}))
    out = load_script("compare").main(["--task", "text", "--runs_dir", str(runs), "--data_scores", str(scores)])
    assert out.startswith("| method · run (`--protocol texygen`) |")  # the table names how its rows were measured
    assert "| data: captions.txt |" in out and "protocol;" not in out  # texygen runs, texygen anchors: no marks
    assert "| published: Texygen (Zhu et al. 2018), SeqGAN |" in out
    # A seqgan run in the same folder: the figures differ in kind, so the table is refused with the fix.
    write_run(runs, "t-old-mle-seed42", "mle", {"test/nll": 3.6, "test/bleu_5": 0.25, "test/self_bleu_5": 0.5},
              {"task": "text"})
    with pytest.raises(ValueError, match=r"different protocols .*seqgan: t-old-mle.*own --runs_dir"):
        load_script("compare").main(["--task", "text", "--runs_dir", str(runs)])


def test_a_cot_run_swept_over_temperature_gets_a_row_and_a_gap_per_temperature(tmp_path):
    runs = tmp_path / "runs"
    for seed in (42, 43, 44):
        # MLE's curve: NLL_test = 8 + (10 - NLL_oracle) / 2 between NLL_oracle 9 and 10 (as above).
        curve = [{"checkpoint": str(runs / f"o-mle-seed{seed}" / "best"), "nll_oracle": x,
                  "nll_test": 8 + (10 - x) / 2,
                  "temperature": t} for x, t in ((9.0, 0.9), (9.5, 0.95), (10.0, 1.0))]
        write_run(runs, f"o-mle-seed{seed}", "mle", {"test/nll_oracle": 10.0, "test/nll_test": 8.0},
                  sweep_test={"rows": curve})
        # CoT's own curve: at T = 1 it lies 0.1 beyond MLE's (9.6, 8.1 against 8.2); at T = 0.9 at 9.2, 0.3 beyond.
        own = [{"checkpoint": str(runs / f"o-cot-seed{seed}" / "best"), "nll_oracle": x, "nll_test": y,
                "temperature": t}
               for x, y, t in ((9.2, 8.1, 0.9), (9.6, 8.1, 1.0))]
        write_run(runs, f"o-cot-seed{seed}", "cot", {"test/nll_oracle": 9.6, "test/nll_test": 8.1},
                  {"start": str(runs / f"o-mle-seed{seed}")}, sweep_test={"rows": own})
    out = load_script("compare").main(["--task", "oracle", "--runs_dir", str(runs)]).splitlines()
    rows = seqgan_rows(out)
    assert rows[1] == ("| G + D: CoT (mediator) · `o-cot` | 9.600 ± 0.000 (n=3) | 8.100 ± 0.000 (n=3) "
                       "| +0.1000 ± 0.0000 (n=3) beyond |")
    assert rows[2] == ("| G + D: CoT (mediator) [T=0.9] · `o-cot` | 9.200 ± 0.000 (n=3) | 8.100 ± 0.000 (n=3) "
                       "| +0.3000 ± 0.0000 (n=3) beyond |")


def test_segment_adds_the_raw_text_table_with_each_configuration_over_its_seeds(tmp_path):
    """Segmenter rows (mean ± std over seeds, paired by token recall over windows) and the raw-text pipeline's
    CoNLL 2018 F1 from raw-*.json: seeds 42-44 of one configuration become one row of mean ± std (n=3)."""
    runs = tmp_path / "runs"
    for seed, f1 in ((42, 0.98), (43, 0.99), (44, 1.0)):
        d = runs / f"seg-mle-seed{seed}"
        d.mkdir(parents=True)
        (d / "eval_test.json").write_text(json.dumps({
            "task": "segment", "method": "mle", "seed": seed, "test/tokens_f1": f1, "test/sentences_f1": 0.8,
            "test/mwt_f1": 0.5, "test/accuracy": 0.99, "test/window_tokens": [10, 10],
            "test/window_token_errors": [1, 0]}))
        (runs / f"raw-ewt-lines-mle-seed{seed}.json").write_text(json.dumps({
            "tokens_f1": f1, "sentences_f1": 1.0, "words_f1": f1 - 0.01, "upos_f1": f1 - 0.05,
            "gold_file": "g/test.conllu",
            "input": "lines", "segmenter": f"runs/seg-mle-seed{seed}", "tagger": "runs/pos",
            "sentences_per_second": 100.0}))
        # G + D tagging of the same segmentation: its per-sentence UPOS errors are paired against the row's
        words, errors = [3, 5, 4, 6], [1, 2, 0, 1]
        better = [1, 1, 0, 0] if seed != 44 else [1, 2, 0, 0]  # one error fewer on two sentences (one on seed 44)
        for name, errs, lam in (("", errors, None), ("-rerank", better, f"{seed - 42}")):
            (runs / f"raw-ewt-lines-mle{name}-seed{seed}.json").write_text(json.dumps({
                "tokens_f1": f1, "sentences_f1": 1.0, "words_f1": f1 - 0.01, "upos_f1": f1 - 0.05,
                "gold_file": "g/test.conllu",
                "input": "lines", "segmenter": f"runs/seg-mle-seed{seed}", "tagger": "runs/pos",
                "sentences_per_second": 100.0, "upos_by_sentence": {"words": words, "errors": errs}}
                | ({"rerank_with": "runs/pos-crf/best", "rerank_lambda": lam} if lam else {})))
    out = load_script("compare").main(["--task", "segment", "--runs_dir", str(runs)]).splitlines()
    assert out[2].startswith("| G alone: MLE") and "99.00% ± 1.00% (n=3)" in out[2] and out[2].endswith("| baseline |")
    raw = [ln for ln in out if ln.startswith("| test.conllu · lines")]
    # Over seeds the reranked row makes 5/3 errors fewer in 18 words: +9.26 points of UPOS recall.
    from seqgan.scoring.significance import paired_bootstrap
    r = paired_bootstrap(words, [1, 4 / 3, 0, 0], errors)
    assert round(100 * r["delta"], 2) == 9.26
    assert raw == ["| test.conllu · lines · `seg-mle` + `pos` | 99.00 ± 1.00 (n=3) | 100.00 ± 0.00 (n=3) | "
                   "98.00 ± 1.00 (n=3) | 94.00 ± 1.00 (n=3) | 100 ± 0 (n=3) | – |",
                   "| test.conllu · lines · `seg-mle` + `pos` reranked by `pos-crf` + log p_G (λ 0/1/2) | "
                   "99.00 ± 1.00 (n=3) | 100.00 ± 0.00 (n=3) | 98.00 ± 1.00 (n=3) | 94.00 ± 1.00 (n=3) | "
                   f"100 ± 0 (n=3) | +9.26 [{100 * r['ci_low']:+.2f}, {100 * r['ci_high']:+.2f}], "
                   f"p={r['p_value']:.4f} |"]


def test_segment_sets_the_taggers_gold_word_upos_beside_its_raw_text_rows_when_it_was_tested_on_that_file(tmp_path):
    """The reference row of the raw-text table: the tagger's test UPOS on the gold words (its eval_test.json), shown
    only when its args.json names the raw-text gold file as its test file (or, with no --test_file, the pos task's
    own EWT test file has the gold file's name)."""
    runs = tmp_path / "runs"
    gold = tmp_path / "g" / "af-test.conllu"
    seg = runs / "seg-mle-seed42"
    seg.mkdir(parents=True)
    (seg / "eval_test.json").write_text(json.dumps({
        "task": "segment", "method": "mle", "seed": 42, "test/tokens_f1": 0.99, "test/sentences_f1": 0.8,
        "test/mwt_f1": 0.5, "test/accuracy": 0.99, "test/window_tokens": [10], "test/window_token_errors": [0]}))
    for tagger, tested_on in (("pos-af", str(gold)), ("pos-other", str(tmp_path / "other.conllu")),
                              ("pos-ewt", None)):
        (runs / tagger).mkdir()
        (runs / tagger / "eval_test.json").write_text(json.dumps({"task": "pos", "test/accuracy": 0.95764}))
        (runs / tagger / "args.json").write_text(json.dumps({"task": "pos", "test_file": tested_on}))
        for name, gold_file in (("af", gold), ("ewt", tmp_path / "g" / "en_ewt-ud-test.conllu")):
            (runs / f"raw-{name}-{tagger}.json").write_text(json.dumps({
                "tokens_f1": 0.99, "sentences_f1": 1.0, "words_f1": 0.99, "upos_f1": 0.95, "gold_file": str(gold_file),
                "input": "lines", "segmenter": str(seg), "tagger": str(runs / tagger / "best"),
                "sentences_per_second": 100.0}))
    page = tmp_path / "page.md"
    out = load_script("compare").main(["--task", "segment", "--runs_dir", str(runs), "--page", str(page),
                                       "--title", "Raw text"]).splitlines()
    # The taggers are the pipeline's too: their runs are in the page's provenance beside the segmenter.
    assert {"`seg-mle-seed42`", "`pos-af`", "`pos-ewt`"} <= {ln.split(" | ")[0][2:] for ln in
                                                              page.read_text().splitlines() if ln.startswith("| `")}
    assert [ln for ln in out if "gold words" in ln] == [
        "| af-test.conllu · gold words · `pos-af` alone | – | – | – | 95.76 | – | – |",
        "| en_ewt-ud-test.conllu · gold words · `pos-ewt` alone | – | – | – | 95.76 | – | – |"]
