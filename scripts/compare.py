#!/usr/bin/env python
"""One markdown table of every method on a task, from the runs' evaluation JSONs, ready for README.

    python scripts/compare.py --task pos                     # all runs/*/eval_test*.json of pos
    python scripts/compare.py --task oracle --runs_dir runs --output_file runs/compare_oracle.md

Rows: each run's eval_test.json (best/, and last/ for GAN runs), plus any eval_test_greedy*.json
(Viterbi / greedy decoding), eval_test_prior*.json (a latent model on N(0, I) codes), eval_test_rerank*.json
(G + D reranking) and eval_test_guide*.json (G + D sampling by D's density ratio) beside it. The generator alone (MLE,
or from a prior), the GAN, the discriminator alone
(CRF / bigram / HMM) and G + D thereby share one table. Runs whose folders differ only in a `-seed<k>` suffix
are one configuration: their row shows mean ± std over the seeds and n (sample std, n - 1); a configuration run
with one seed is marked "n=1".
A GAN or CoT run swept over temperature itself (`evaluate.py --temperatures ... --checkpoint RUN`) adds a row per
temperature, "[T=0.8]", each with its gap like the run's own row.
Tasks with a FRONTIER (oracle, text) get gap columns: each GAN, D alone and G + D row's signed distance to the MLE
temperature curve of its own seed (seqgan/scoring/frontier.py; positive = beyond MLE), the curve being the
sweep_test.json in the generator's run folder (G + D rows: the run itself; GAN rows: their --init_from run; D alone:
the one MLE run of the same --seed in --runs_dir), written by `evaluate.py --temperatures ... --checkpoint RUN`.
A gap whose mean exceeds twice its std over at least 3 seeds is marked "beyond".
segment adds a table of the raw-text pipeline's CoNLL 2018 F1 from the runs_dir's raw-*.json
(evaluate.py --raw_text --output_file). pos (and segment, by token recall over windows) add a paired test against the
MLE configuration (or --baseline RUN): the UPOS difference in points, its
95% CI and p-value from a bootstrap over test sentences (seqgan/scoring/significance.py, 10,000 resamples,
seed 0), each configuration's per-sentence errors averaged over its seeds.
Last come the task's PUBLISHED anchors (other papers' figures on the same benchmark), labelled "published", and with
--data_scores (text) real sentences scored by scripts/score_text.py, labelled "data", each with its gap to every
seed's MLE curve: how far beyond MLE the data itself lies. Text runs are measured under one protocol per table
(--protocol seqgan or texygen, seqgan/scoring/protocols.py); an anchor measured under another is marked so.
"""

from __future__ import annotations

import json
import math
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from seqgan.checkpoint import read_args, run_dir, write_text_atomic
from seqgan.cli import OUTPUT_RENAMED, make_parser, parse_strict, run
from seqgan.provenance import read_provenance
from seqgan.scoring.frontier import curve_gap
from seqgan.scoring.metrics import named_bleu
from seqgan.scoring.plots import plot_sweep
from seqgan.scoring.significance import paired_bootstrap
from seqgan.tasks import get_task
from seqgan.training.methods import FAMILY_ORDER, METHODS


@dataclass
class CompareArguments:
    task: str = field(metadata={"help": "pos, segment, oracle or text."})
    runs_dir: str = field(default="runs", metadata={"help": "Folder of run folders to collect."})
    output_file: str | None = field(default=None, metadata={"help": "Also write the table to this markdown file."})
    plot: str | None = field(default=None, metadata={
        "help": "oracle, text: also draw the MLE baseline's temperature curve of every seed (their sweep_test.json) "
                "and every GAN and G + D row at its own temperature, on the task's sweep axes, to this PNG."})
    data_scores: str | None = field(default=None, metadata={
        "help": "text: a scripts/score_text.py JSON of real sentences (e.g. the training captions against the test "
                "captions), shown as a 'data' row with its gaps to every seed's MLE curve, like a published anchor."})
    page: str | None = field(default=None, metadata={
        "help": "Write a whole results page (markdown) to this path: a title (--title), the command that made it, the "
                "table, and a provenance table of every run (commit, command, seed, machine, wall time: each run's "
                "provenance.json). The docs' results pages are made this way, never edited by hand."})
    title: str = field(default="Results", metadata={"help": "--page: the page's title."})
    baseline: str | None = field(default=None, metadata={
        "help": "pos: the run folder (without its -seed<k> suffix, e.g. pos-mle) every row is paired against; "
                "default: the one MLE configuration among the runs."})


def describe(run: str, res: dict, kind: str) -> str:
    method = res.get("method", "mle")
    # The method's own label (seqgan/training/methods.py); D alone is named by the task (a CRF, a bigram model).
    what = METHODS[method].label({**res, "d_alone": get_task(res["task"]).D_ALONE})
    decoding = {"best": "", "last": " [last]", "prior": " [N(0, I) codes]",
                "greedy": " [Viterbi]" if METHODS[method].family == "D alone" else " [greedy]"}.get(kind, "")
    if kind.startswith("T="):  # a GAN or CoT run's own temperature sweep (its sweep_test.json), beside its T = 1 row
        decoding = f" [{kind}]"
    if kind == "guide":
        how = (f"SIR, K={res['guide_candidates']}" if res["guide_method"] == "sir"
               else "DRS") + f", γ={res['guide_gamma']:g}"
        return f"G + D: {what.split(': ')[-1]} sampled by D's ratio ({how}) · `{run}`"
    if kind == "rerank":
        lam = res.get("rerank_lambda", "inf")  # older results: D's score alone
        # A λ tuned per seed is named by how it was picked, so that the seeds of one configuration share a row.
        by = f"λ by {res['rerank_tuned']}" if res.get("rerank_tuned") else f"λ={lam}"
        d = f"`{Path(res['rerank_with']).parent.name}`"
        if res.get("rerank_method") == "sir":
            return (f"G + D: {what.split(': ')[-1]}, 1 of K={res['num_candidates']} samples drawn ∝ exp(λ·{d}) "
                    f"({by}) · `{run}`")
        # λ = inf is D's score alone, unless dev picked it among others: then the row is still the tuned product's.
        how = "" if lam == "inf" and not res.get("rerank_tuned") else f" + log p_G ({by})"
        return (f"G + D: {what.split(': ')[-1]} candidates (greedy + K={res['num_candidates']}) reranked by "
                f"{d}{how} · `{run}`")
    return f"{what}{decoding} · `{run}`"


def collect(runs_dir: Path, task: str) -> list[tuple[str, dict]]:
    rows = []
    for folder in sorted(p for p in runs_dir.iterdir() if p.is_dir()):
        base = folder / "eval_test.json"
        if not base.is_file():
            continue
        res = json.loads(base.read_text())
        # the folder's options name its recipe (e.g. --cold_temperature) in the label
        if (folder / "args.json").is_file():
            res = {**json.loads((folder / "args.json").read_text()), **res}
        if res.get("task") != task:
            continue
        best = {k[5:]: v for k, v in res.items() if k.startswith("test/")}
        own_curve = mle_curve(folder)  # read once: the guided rows' gaps and the published anchors' are measured on it
        if res.get("method", "mle") == "mle":
            best["mle_curve"] = own_curve
        last = {k[10:]: v for k, v in res.items() if k.startswith("last/test/")}
        group = [(describe(folder.name, res, "best"), best)]
        # GANs and CoT: best/ and last/, gaps to G's curve
        adversarial = METHODS[res.get("method", "mle")].family == "GAN"
        if adversarial:  # the run's own temperature curve, where it was swept: each point is judged like its T = 1 row
            group += [(describe(folder.name, res, f"T={r['temperature']:g}"),
                       r) for r in own_curve if r["temperature"] != 1.0]
        if adversarial and last:
            # A seed whose last state is its best/ still counts in its configuration's [last] row (the row is the
            # last states over seeds); aggregate() drops a [last] row only where no seed's last state differs.
            same = not any(last.get(k) != best.get(k) for _, k, _ in get_task(task).COMPARE_COLUMNS)
            group.append((describe(folder.name, res, "last"), {**last, "last_is_best": same}))
        extras = [folder.glob(f"eval_test_{k}*.json") for k in ("greedy", "prior", "rerank", "guide")]
        for extra in [p for found in extras for p in sorted(found)]:
            # greedy, prior, rerank, guide
            kind = extra.name[len("eval_test_"):].split("_")[0].split(".")[0].split("-")[0]
            raw = json.loads(extra.read_text())
            e = {k[5:]: v for k, v in raw.items() if k.startswith("test/")}
            if "rerank_dev" in raw:
                e["rerank_tuned"] = raw["rerank_dev_metric"]
            group.append((describe(folder.name, {**res, **e}, kind), e))
            if kind == "guide":
                add_gaps(e, task, own_curve)
        if res.get("method") in ("crf", "hmm"):  # D alone starts from no generator: its seed's MLE curve
            for _, m in group:
                add_gaps(m, task, same_seed_mle_curve(runs_dir, task, res.get("seed")))
        if adversarial and res.get("start"):
            start = run_dir(res["start"])  # where training read it, or beside this folder when the folder moved
            curve = mle_curve(start if start.is_dir() else runs_dir / start.name)
            for _, m in group:
                add_gaps(m, task, curve)
        # G alone (MLE and the generators from a prior), D alone (CRF / bigram, HMM), then the GANs.
        rows.append((FAMILY_ORDER[METHODS[res.get("method", "mle")].family], group))
    # G alone, then D alone, then the GAN; runs alphabetically within each.
    return [row for _, group in sorted(rows, key=lambda r: r[0]) for row in group]


def mle_curve(run: Path) -> list[dict]:
    """The temperature-sweep rows of the generator in `run` (its sweep_test.json), or [] where there is none."""
    path = run / "sweep_test.json"
    if not path.is_file():
        return []
    return [r for r in json.loads(path.read_text())["rows"] if run_dir(r["checkpoint"]).name == run.name]


def same_seed_mle_curve(runs_dir: Path, task: str, seed) -> list[dict]:
    """The curve of the one MLE run of `task` with this --seed in `runs_dir` (none, or several: [], so no gap)."""
    curves = []
    for folder in sorted(p for p in runs_dir.iterdir() if (p / "sweep_test.json").is_file()
                         and (p / "args.json").is_file()):
        a = json.loads((folder / "args.json").read_text())
        if a.get("task") == task and a.get("method", "mle") == "mle" and a.get("seed") == seed:
            curves.append(mle_curve(folder))
    return curves[0] if len(curves) == 1 else []


def scored_text(path: str) -> tuple[str, dict]:
    """(the scored file's name, its metrics) from scripts/score_text.py's JSON, in the metric names of evaluate.py."""
    js = json.loads(Path(path).read_text())
    if "test_bleu" not in js:
        raise ValueError(f"--data_scores {path}: no test_bleu in it; give scripts/score_text.py's --output_file with "
                         "--references.")
    m = {**{k: v for k, v in js.items() if isinstance(v, (int, float))}, **named_bleu(js),
         "protocol": js.get("protocol", "seqgan")}  # files scored before the switch were scored as seqgan scores
    return Path(js.get("files", {}).get("hypotheses", path)).name, m


def add_gaps(m: dict, task: str, curve: list[dict]) -> None:
    """The row's signed gaps to the curve (FRONTIER of the task), as "gap:<column>" entries."""
    for name, x, y, better in getattr(get_task(task), "FRONTIER", []):
        if curve and isinstance(m.get(x), (int, float)) and isinstance(m.get(y), (int, float)):
            m[f"gap:{name}"] = curve_gap([(r[x], r[y]) for r in curve], (m[x], m[y]), better)


SEED = re.compile(r"-seed\d+`")


def configuration(name: str) -> str:
    """A run's name without its -seed<k> suffix: the configuration its seeds share."""
    return re.sub(r"-seed\d+$", "", name)


def aggregate(rows: list[tuple[str, dict]]) -> list[tuple[str, dict | list[dict]]]:
    """Rows of one configuration over seeds (names equal but for `-seed<k>`) merged, in first-seen order."""
    groups, seeded = {}, set()
    for name, m in rows:
        key = SEED.sub("`", name)
        groups.setdefault(key, []).append(m)
        if key != name:
            seeded.add(key)
    # A [last] row whose every seed ended at its best/ state repeats the row above it: left out.
    return [(key, ms if key in seeded else ms[0]) for key, ms in groups.items()
            if not all(m.get("last_is_best") for m in ms)]


def cell(values: dict | list[dict], key: str, fmt: str) -> str:
    if isinstance(values, dict):
        return fmt.format(values[key]) if isinstance(values.get(key), (int, float)) else "–"
    xs = [m[key] for m in values if isinstance(m.get(key), (int, float))]
    if not xs:
        return "–"
    if len(xs) == 1:
        return f"{fmt.format(xs[0])} (n=1)"
    mean = sum(xs) / len(xs)
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))
    return f"{fmt.format(mean)} ± {fmt.replace('+', '').format(std)} (n={len(xs)})"  # a signed mean, an unsigned std


def beyond(values: dict | list[dict], key: str) -> bool:
    """A gap whose mean over >= 3 seeds exceeds twice its std: the README's bar for "beyond MLE"."""
    xs = [m[key] for m in values if isinstance(m.get(key), (int, float))] if isinstance(values, list) else []
    if len(xs) < 3:
        return False
    mean = sum(xs) / len(xs)
    return mean > 2 * math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))


def baseline_key(groups: list[tuple[str, dict | list[dict]]], baseline: str | None, strict: bool = True) -> str | None:
    """The aggregated row the paired test and the published anchors compare against: --baseline's, else the one plain
    MLE configuration (several: an error when `strict`, else None)."""
    if baseline is not None:
        keys = [k for k, _ in groups if k.endswith(f"· `{baseline}`")]
        if not keys:
            raise ValueError(f"--baseline {baseline}: no run of that name (without -seed<k>) among: "
                             + ", ".join(k.split("`")[1] for k, _ in groups))
        return keys[0]
    keys = [k for k, _ in groups if k.startswith("G alone: MLE · ")]
    if len(keys) > 1 and not strict:
        return None
    if len(keys) > 1:
        raise ValueError("several MLE configurations (" + ", ".join(k.split("`")[1]
                                                                    for k in keys) + "): name the one to "
                         "pair every row against with --baseline RUN.")
    return keys[0] if keys else None


def paired_cell(m: dict | list[dict], base: dict | list[dict], words_key: str, errors_key: str) -> str:
    """accuracy(row) - accuracy(baseline) in points, its 95% bootstrap CI and p, each side's errors averaged over its
    seeds."""
    def mean_errors(v):
        runs = [x for x in (v if isinstance(v, list) else [v]) if errors_key in x]
        if not runs:
            return None, None
        if any(x[words_key] != runs[0][words_key] for x in runs):
            raise ValueError("the seeds of one configuration were tested on different sentences; evaluate them on one "
                             "test file.")
        return runs[0][words_key], [sum(col) / len(runs) for col in zip(*(x[errors_key] for x in runs))]
    (words, ea), (base_words, eb) = mean_errors(m), mean_errors(base)
    if words is None or base_words is None:
        return "–"
    if words != base_words:
        raise ValueError("a row and the baseline were tested on different sentences; the paired test needs one test "
                         "file.")
    r = paired_bootstrap(words, ea, eb)
    p = f"p={r['p_value']:.4f}" if r["p_value"] > 0 else f"p<{1 / r['resamples']:g}"  # no resample reached the null
    return f"{100 * r['delta']:+.2f} [{100 * r['ci_low']:+.2f}, {100 * r['ci_high']:+.2f}], {p}"


def protocol_of(rows: list[tuple[str, dict]]) -> str | None:
    """The one measurement protocol of the text runs (seqgan/scoring/protocols.py; runs from before the switch are
    seqgan's); None for tasks without one. Runs of two protocols do not share a table: their figures differ in kind."""
    protocols = {}
    for name, m in rows:
        if "bleu_5" in m:
            protocols.setdefault(m.get("protocol", "seqgan"), []).append(name.split("`")[1])
    if len(protocols) > 1:
        raise ValueError("runs measured under different protocols cannot share a table ("
                         + "; ".join(f"{p}: {', '.join(sorted(set(n)))}" for p, n in protocols.items())
                         + "); put each protocol's runs in their own --runs_dir.")
    return next(iter(protocols), None)


def mismatch(theirs: str | None, ours: str | None) -> str:
    """A published or data row measured under another protocol than the runs is marked as such (its gap is still
    shown: the protocols place one set of sentences differently, so read it with that caveat)."""
    return f" [{theirs} protocol; these runs: {ours}]" if theirs and ours and theirs != ours else ""


def table(task: str, rows: list[tuple[str, dict]], baseline: str | None = None,
          data: tuple[str, dict] | None = None) -> str:
    mod = get_task(task)
    groups = aggregate(rows)
    paired = getattr(mod, "PAIRED_TEST", None)  # (header, words key, errors key), pos only
    base = baseline_key(groups, baseline, strict=bool(paired))
    # Other papers' figures, labelled as such. Where the task has a FRONTIER, each published point gets its gap to the
    # MLE baseline's curve of every seed: positive = the published point lies beyond seqgan's MLE curve.
    base_runs = dict(groups)[base] if base else []
    curves = [r.get("mle_curve") for r in (base_runs if isinstance(base_runs, list) else [base_runs])
              if r.get("mle_curve")]
    anchor_rows = []  # the data row and the published ones: their own figures, and their gaps per seed
    ours = protocol_of(rows)
    anchors = [(f"published: {label}{mismatch(getattr(mod, 'PUBLISHED_PROTOCOL', ours), ours)}", m)
               for label, m in getattr(mod, "PUBLISHED", [])]
    if data:
        anchors.insert(0, (f"data: {data[0]}{mismatch(data[1].get('protocol', 'seqgan'), ours)}", data[1]))
    for label, m in anchors:
        per_seed = [dict(m) for _ in curves]
        for ms, curve in zip(per_seed, curves):
            add_gaps(ms, task, curve)
        anchor_rows.append((label, m, per_seed or m))
    every = rows + [(n, x) for n, _, v in anchor_rows for x in (v if isinstance(v, list) else [v])]
    # A column no row has a figure for (the energy tagger's search error, in a table without one) is left out.
    cols = [c for c in mod.COMPARE_COLUMNS if any(m.get(c[1]) is not None for _, m in every)]
    gaps = [(name, f"gap:{name}", "{:+.4f}") for name, *_ in getattr(mod, "FRONTIER", [])
            # a column only where some row has a gap
            if any(isinstance(m.get(f"gap:{name}"), float) for _, m in every)]
    extra = [paired[0] + f" (vs `{base.split('`')[1]}`)"] if base and paired else []
    first = f"method · run (`--protocol {ours}`)" if ours else "method · run"  # text: how every row was measured
    lines = [f"| {first} | " + " | ".join([h for h, _, _ in cols + gaps] + extra) + " |",
             "|---" * (len(cols + gaps + extra) + 1) + "|"]
    for name, m, g in [(n, m, m) for n, m in groups] + anchor_rows:
        cells = [cell(m, k, fmt) for _, k, fmt in cols]
        cells += [cell(g, k, fmt) + (" beyond" if beyond(g, k) else "") for _, k, fmt in gaps]
        if extra:
            cells.append("baseline" if name == base else "–" if name.startswith(("published: ", "data: ")) else
                         paired_cell(m, base_runs, paired[1], paired[2]))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(task: str, rows: list[tuple[str, dict]], baseline: str | None, path: str) -> None:
    """Every seed's MLE curve, and each GAN and G + D run as a single point (labelled by its temperature)."""
    axes = get_task(task).SWEEP_AXES
    if not axes:
        raise ValueError(f"--plot: {task} has no temperature sweeps to draw.")
    groups = aggregate(rows)
    base = baseline_key(groups, baseline)
    if base is None:
        raise ValueError("--plot draws the MLE baseline's curves; there is no MLE run here.")
    runs = dict(groups)[base]
    curves = [dict(r, label=run_dir(r["checkpoint"]).name) for m in (runs if isinstance(runs, list) else [runs])
              for r in m.get("mle_curve", [])]
    if not curves:
        raise ValueError(f"--plot: the MLE runs of {base.split('`')[1]} have no sweep_test.json; run "
                         "scripts/evaluate.py --checkpoint RUN --temperatures ... first.")
    # One point per run (the dev-picked state; its [last] state stays in the table), labelled with its run folder.
    points = [dict(m, label=name.replace("`", "")) for name, m in rows if name.startswith(("GAN", "G + D"))
              and "[last]" not in name
                  and all(isinstance(m.get(k), (int, float)) for k in ("temperature", *axes[0][:2]))]
    plot_sweep(curves + points, axes, path, title=task)


def main(argv: list[str] | None = None) -> str:
    (args,) = parse_strict(make_parser(CompareArguments), argv, renamed=OUTPUT_RENAMED)
    get_task(args.task)  # a clear error for an unknown task
    runs_dir = Path(args.runs_dir)
    if not runs_dir.is_dir():
        raise FileNotFoundError(f"--runs_dir {runs_dir} does not exist.")
    rows = collect(runs_dir, args.task)
    if not rows:
        raise FileNotFoundError(f"no {args.task} run with eval_test.json under {runs_dir}; train or evaluate one "
                                "first.")
    out = table(args.task, rows, args.baseline, scored_text(args.data_scores) if args.data_scores else None)
    extras = ((raw_text_table(runs_dir), timed_table(runs_dir)) if args.task == "segment" else
              (calibration_table(runs_dir, args.task),))
    for extra in extras:
        out += f"\n\n{extra}" if extra else ""
    if args.plot:
        plot(args.task, rows, args.baseline, args.plot)
    if args.output_file:
        write_text_atomic(args.output_file, out + "\n")
    if args.page:
        command = "python scripts/compare.py " + shlex.join(argv if argv is not None else sys.argv[1:])
        write_text_atomic(args.page, page(args.title, command, out, provenance_rows(runs_dir, args.task)))
    print(out)
    return out


RAW_COLUMNS = [("Tokens F1", "tokens_f1"), ("Sentences F1", "sentences_f1"), ("Words F1", "words_f1"),
               ("UPOS F1", "upos_f1")]


def raw_text_table(runs_dir: Path) -> str:
    """segment: the raw-text pipeline's CoNLL 2018 F1 (%) from runs_dir/raw-*.json (evaluate.py --raw_text
    --output_file), one row per name without its -seed<k>, mean ± std over the seeds; "" when there are none."""
    groups: dict[str, list[dict]] = {}
    for f in sorted(runs_dir.glob("raw-*.json")):
        groups.setdefault(configuration(f.stem), []).append(json.loads(f.read_text()))
    if not groups:
        return ""
    for r in (r for rs in groups.values() for r in rs if "upos_by_sentence" in r):  # older runs lack it: no test
        by = r["upos_by_sentence"]
        r["sentence_words"], r["sentence_upos_errors"] = by["words"], by["errors"]
    lines = ["| raw text · input · segmenter | " + " | ".join(h for h, _ in RAW_COLUMNS) + " | sentences / s | "
             "UPOS recall Δ points [95% CI], p (vs the same row without reranking) |",
             "|---" * (len(RAW_COLUMNS) + 3) + "|"]
    for name, rs in sorted(groups.items()):  # a row before its reranked twin (name-rerank)
        pct = [{k: 100 * r[k] for _, k in RAW_COLUMNS} | {"sps": r["sentences_per_second"]} for r in rs]
        values = pct if len(pct) > 1 else pct[0]
        label = f"{Path(rs[0]['gold_file']).name} · {rs[0]['input']} · `{Path(rs[0]['segmenter']).name}` + `" \
                f"{Path(rs[0]['tagger']).name}`"
        if rs[0].get("rerank_with"):  # G + D tagging: the tagger's candidates ranked with a D at a dev-picked λ
            lams = "/".join(r["rerank_lambda"] for r in rs)
            label += f" reranked by `{run_dir(rs[0]['rerank_with']).name}` + log p_G (λ {lams})"
        label = SEED.sub("`", label) if len(pct) > 1 else label
        base = groups.get(name.removesuffix("-rerank")) if name.endswith("-rerank") else None
        paired = paired_cell(rs, base, "sentence_words", "sentence_upos_errors") if base else "–"
        lines.append(f"| {label} | " + " | ".join(cell(values, k, "{:.2f}") for _, k in RAW_COLUMNS)
                     + f" | {cell(values, 'sps', '{:.0f}')} | {paired} |")
    pairs = {(r["gold_file"], r["tagger"]) for rs in groups.values() for r in rs}
    lines += [row for gold, tagger in sorted(pairs) if (row := gold_words_row(gold, tagger))]
    return "\n".join(lines)


def gold_words_row(gold_file: str, tagger: str) -> str | None:
    """The raw-text table's reference: the tagger's own test UPOS on the gold file's words (its eval_test.json), when
    its args.json names that file as its test file; None otherwise. What raw text costs is the gap to this row."""
    run = run_dir(tagger)
    args = read_args(run)
    if not (run / "eval_test.json").is_file() or not args:
        return None
    if args.get("test_file"):
        same = Path(args["test_file"]).resolve() == Path(gold_file).resolve()
    else:  # the task's own test file under --data_dir, wherever that was
        default = getattr(get_task(args.get("task", "pos")), "DEFAULT_FILE", None)
        same = default is not None and Path(default.format("test")).name == Path(gold_file).name
    if not same:
        return None
    upos = json.loads((run / "eval_test.json").read_text())["test/accuracy"]
    return f"| {Path(gold_file).name} · gold words · `{run.name}` alone | – | – | – | {100 * upos:.2f} | – | – |"


def timed_table(runs_dir: Path) -> str:
    """segment: the timed raw-text runs in runs_dir/timed-*.json (experiments/segment.sh), one row each; "" if none."""
    rows = [json.loads(f.read_text()) for f in sorted(runs_dir.glob("timed-*.json"))]
    if not rows:
        return ""
    lines = ["| timed run · segmenter + tagger | MB | sentences | words | wall time | sentences / s |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {Path(r['input']).name} · `{Path(r['segmenter']).name}` + `{Path(r['tagger']).name}` | "
                     f"{r['bytes'] / 1e6:.2f} | {r['sentences']:,} | {r['words']:,} | {r['seconds']:.0f} s | "
                     f"{r['sentences_per_second']:.0f} |")
    return "\n".join(lines)


RATIO_COLUMNS = [("D's test log-loss", "test/log_loss"), ("accuracy", "test/accuracy"), ("ECE", "test/ece"),
                 ("mean exp(d) on G's samples", "test/mean_ratio_on_fakes")]


def calibration_table(runs_dir: Path, task: str) -> str:
    """oracle, text: each D fitted as a density ratio in runs_dir (scripts/fit_ratio.py's ratio.json; guide.sh's
    ratio-<task>-seed<k>), its calibration on held-out data against fresh samples of G, one row per configuration
    (mean ± std over its seeds) and the step each seed's dev log-loss picked; "" when there are none."""
    groups: dict[str, list[dict]] = {}
    for f in sorted(runs_dir.glob("*/ratio.json")):
        r = json.loads(f.read_text())
        if r.get("task") == task:
            groups.setdefault(configuration(f.parent.name), []).append(r)
    if not groups:
        return ""
    lines = ["| D fitted as a density ratio · run | " + " | ".join(h for h, _ in RATIO_COLUMNS)
             + " | step picked by dev log-loss |", "|---" * (len(RATIO_COLUMNS) + 2) + "|"]
    for name, rs in groups.items():
        values = rs if len(rs) > 1 else rs[0]
        lines.append(f"| `{name}` | " + " | ".join(cell(values, k, "{:.4f}") for _, k in RATIO_COLUMNS)
                     + f" | {', '.join(str(r['best_step']) for r in rs)} |")
    return "\n".join(lines)


def provenance_rows(runs_dir: Path, task: str) -> list[dict]:
    """One record per run folder of `task` under runs_dir (for segment, also the pos taggers its raw-text rows tag
    with): its provenance.json, or what args.json and eval_test.json tell of a run written before seqgan recorded
    provenance (commit and machine then say "not recorded"). Ds fitted as density ratios (ratio.json) are runs too."""
    tasks = {task, "pos"} if task == "segment" else {task}
    folders = {p for p in runs_dir.iterdir() if p.is_dir()}  # those without results are skipped below
    if task == "segment":  # the taggers and their rerankers may live in another folder (experiments/pos.sh's)
        for f in runs_dir.glob("raw-*.json"):
            r = json.loads(f.read_text())
            folders |= {run_dir(r[k]) for k in ("tagger", "rerank_with") if r.get(k)}
    out = []
    for folder in sorted(folders, key=lambda p: p.name):
        # a trained run's results, or a D fitted as a density ratio (scripts/fit_ratio.py)
        found = [f for f in (folder / "eval_test.json", folder / "ratio.json") if f.is_file()]
        if not found:
            continue
        res = json.loads(found[0].read_text())
        if res.get("task") not in tasks:
            continue
        rec = {"commit": "not recorded", "machine": "not recorded", "command": "not recorded",
               "wall_time_s": res.get("train_time_s"), "num_processes": res.get("num_processes")}
        out.append({"run": folder.name, "seed": res.get("seed"), **rec, **read_provenance(folder)})
    return out


def page(title: str, command: str, table_md: str, runs: list[dict]) -> str:
    """A results page: what made it, the table, and where every run came from."""
    lines = [f"# {title}", "", f"Generated by `{command}` from the run folders' results; do not edit by hand.", "",
             table_md, "", "## Provenance", "",
             "| run | seed | commit | machine | processes × threads | wall time | command |",
             "|---|---|---|---|---|---|---|"]
    for r in runs:
        wall = f"{r['wall_time_s'] / 60:.1f} min" if isinstance(r.get("wall_time_s"), (int, float)) else "–"
        procs = f"{r.get('num_processes', '–')} × {r.get('threads', '–')}"
        command = f"`{r['command']}`" if r["command"] != "not recorded" else r["command"]
        lines.append(f"| `{r['run']}` | {r.get('seed', '–')} | {r['commit']} | {r['machine']} | {procs} | {wall} | "
                     f"{command} |")
    return "\n".join(lines) + "\n"


def cli() -> None:
    """The seqgan-compare command (pyproject.toml [project.scripts]); `python scripts/compare.py` runs the same."""
    run(main)


if __name__ == "__main__":
    cli()
