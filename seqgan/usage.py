"""train.py's --help: the options one run reads, with that run's defaults, in a page; --help_all prints every option.

    python scripts/train.py --task pos --help                   # the tagger's options, its defaults, three examples
    python scripts/train.py --task text --method vae --help     # what a VAE on text reads
    python scripts/train.py --help_all                          # all options of every task and method, grouped

A run reads the options of its task and method only: 118 options in all, of which a POS tagger reads about half.
SCOPE says where each option acts; seqgan.config.parse_args prints this page when asked.
"""

from __future__ import annotations

import argparse
import re
import textwrap

LM = ("text", "oracle")  # the language-model tasks
# every method but the counted HMM
TRAINED = ("mle", "gan", "energy", "crf", "random-code", "ae", "vae", "latent-gan", "cot")
LATENT = ("random-code", "ae", "vae", "latent-gan")
# train_supervised (gan, cot: MLE pre-training)
SUPERVISED_LOOP = ("mle", "gan", "cot", "energy", "crf", "random-code", "ae", "vae")
POS_TAGGER = ("mle", "gan", "crf", "energy")  # the neural pos models: tagger, CRF and energy over the same encoder

# Where each option acts: (tasks, methods) of the runs that read it, None meaning every task or every method. An option
# not named here acts in every run. tests/test_help.py holds the names to the option dataclasses' fields.
SCOPE: dict[str, tuple[tuple[str, ...] | None, tuple[str, ...] | None]] = {
    # data
    "test_size": (("oracle",), None),
    "num_eval_samples": (LM, None),
    "num_test_samples": (LM, None),
    "text_column": (LM, None),
    "tag_column": (("pos",), None),
    "tokens_column": (("pos",), None),
    "tags_column": (("pos",), None),
    "protocol": (("text",), None),
    # model
    "generator_name_or_path": (None, ("mle", "gan", "cot")),
    "encoder_name_or_path": (("pos",), ("mle", "gan", "crf")),  # energy: from scratch only
    "trust_remote_code": (None, ("mle", "gan", "cot", "crf")),  # energy: from scratch only
    **{name: (None, TRAINED) for name in ("hidden_size", "num_layers", "num_heads", "ffn_size", "dropout")},
    **{name: (("pos", "segment"), POS_TAGGER) for name in ("char_dim", "char_filters", "word_dropout",
                                                           "sentence_encoder")},
    "decoder_layers": (("pos", "segment"), ("mle", "gan")),
    "prev_tag_dropout": (("pos", "segment"), ("mle", "gan")),
    "word_min_freq": (("pos", "segment", "text"), None),
    "latent_size": (LM, LATENT),
    "iwae_samples": (LM, LATENT),
    "kl_anneal_steps": (LM, ("vae",)),
    "free_bits": (LM, ("vae",)),
    "latent_word_dropout": (LM, ("ae", "vae")),
    "ae_proposal_scale": (LM, ("ae",)),
    "latent_code_seed": (LM, ("random-code",)),
    # training: the HMM is counted, not trained
    **{name: (None, TRAINED) for name in (
        "batch_size", "gradient_accumulation_steps", "learning_rate", "weight_decay", "max_grad_norm", "log_every",
        "max_steps", "resume_from_checkpoint", "save_every", "save_total_limit", "max_nonfinite_steps")},
    # the epochs of supervised training (a GAN's are --mle_pretrain_epochs) and its schedule, dev evaluations, stopping
    "num_train_epochs": (None, ("mle", "crf", "energy", "random-code", "ae", "vae")),
    **{name: (None, SUPERVISED_LOOP) for name in (
        "warmup_ratio", "lr_scheduler", "eval_every", "early_stopping_patience", "min_steps")},
    "average_weights": (None, ("mle", "crf", "energy")),
    "average_decay": (None, ("mle", "crf", "energy")),
    "collapse_min_distinct_2": (LM, None),
    "collapse_min_unique": (LM, None),
    # crf and hmm
    "crf_loss": (None, ("crf",)),
    "energy_terms": (("pos",), ("energy",)),
    "energy_ce_weight": (("pos",), ("energy",)),
    "energy_g_weight": (("pos",), ("energy",)),
    "negatives_from": (("pos",), ("crf",)),
    "num_negatives": (("pos",), ("crf",)),
    "bigram_smoothing": (LM, ("crf",)),
    **{name: (("pos",), ("hmm",)) for name in ("hmm_smoothing", "hmm_order", "hmm_suffix_length", "hmm_rare_max")},
    # adversarial: both GANs (token-level and over a trained AE's codes), then the token-level GAN's own, then ARAE's
    # own
    **{name: (None, ("gan", "latent-gan", "cot")) for name in (
        "init_from", "adv_steps", "d_steps", "g_steps", "g_learning_rate", "d_learning_rate", "gan_eval_every",
        "gan_log_every")},
    **{name: (None, ("gan", "cot")) for name in ("mle_pretrain_epochs", "d_pretrain_steps")},
    **{name: (None, ("gan",)) for name in (
        "bridge", "gan_loss", "mle_weight", "baseline",
        "baseline_decay", "entropy_coef", "cold_temperature", "cold_clip", "num_rollouts", "rollout_max_rows",
        "dense_gamma", "gumbel_beta_max", "gumbel_schedule", "disc_name_or_path", "disc_causal", "disc_hidden_size",
        "disc_layers", "disc_heads", "disc_ffn_size", "disc_dropout")},
    "samples_per_input": (("pos",), ("gan",)),  # K samples per input sentence: conditional G only
    **{name: (LM, ("latent-gan",)) for name in ("gp_weight", "latent_finetune_encoder")},
}
POLICY_GRADIENT = ("reinforce", "rollout", "dense")
# Within --method gan, the options one bridge reads (seqgan/training/bridges.py; BridgeOptions).
BRIDGE_SCOPE: dict[str, tuple[str, ...]] = {
    **{name: POLICY_GRADIENT for name in ("baseline", "baseline_decay", "entropy_coef")},
    "cold_temperature": ("reinforce",),
    "cold_clip": ("reinforce",),
    "num_rollouts": ("rollout",),
    "rollout_max_rows": ("rollout",),
    "dense_gamma": ("dense",),
    "gumbel_beta_max": ("gumbel", "st-gumbel"),
    "gumbel_schedule": ("gumbel", "st-gumbel"),
}


def acts_in(name: str, task: str, method: str, bridge: str | None = None) -> bool:
    """Whether option `name` is read by a run of `task` and `method` (and, for --method gan, `bridge`)."""
    tasks, methods = SCOPE.get(name, (None, None))
    if method == "gan" and bridge and name in BRIDGE_SCOPE and bridge not in BRIDGE_SCOPE[name]:
        return False
    return (tasks is None or task in tasks) and (methods is None or method in methods)


def examples(doc: str, task: str, method: str, n: int = 3) -> list[str]:
    """The script docstring's command lines for this task, this method's first (mle: those that name no method)."""
    lines = [ln.strip() for ln in doc.splitlines() if ln.strip().startswith(("accelerate launch", "python scripts/"))]
    for_task = [ln for ln in lines if f"--task {task}" in ln]
    same = [ln for ln in for_task if (f"--method {method}" in ln if method != "mle" else "--method" not in ln)]
    return (same + [ln for ln in for_task if ln not in same])[:n]


def _cut(command: str, width: int) -> str:
    """A docstring command line without its trailing comment if the two do not fit `width`."""
    return command if len(command) <= width else command.split("  #")[0].rstrip()


def _line(action: argparse.Action, value, width: int) -> str:
    """One option on one line: `--name VALUE  the first sentence of its help`, cut at a word to fit `width`."""
    head = f"  {action.option_strings[0]} {value}"
    first = re.split(r"(?<=[a-z0-9)])\. (?=[A-Z(])", action.help or "")[0]
    first = first if first.endswith("...") else first.rstrip(".")
    line = f"{head:<34} {first}"
    return line if len(line) <= width else line[:width - 1].rsplit(" ", 1)[0] + " …"


def run_help(parser: argparse.ArgumentParser, run: dict, doc: str | None, width: int = 119) -> str:
    """The page `--help` prints: what the script does, three examples, and the options the run reads, one group at a
    time, with the run's values. `run`: every option of the asked run, parsed with its task's defaults applied."""
    task, method = run["task"], run["method"]
    out = [f"usage: {parser.prog} --task {task} [--method {method}] [options]   (--help_all: every option)", ""]
    if doc:
        out += [textwrap.fill(" ".join(doc.strip().split("\n\n")[0].split()), width), ""]
        out += ["examples:", *(f"  {_cut(ln, width - 2)}" for ln in examples(doc, task, method)), ""]
    groups, hidden = [], 0
    for group in parser._action_groups:
        actions = [a for a in group._group_actions if a.option_strings and a.dest != "help"]
        kept = [a for a in actions if acts_in(a.dest, task, method, run.get("bridge"))]
        hidden += len(actions) - len(kept)
        groups.append((group.title, kept))
    bridge = f" --bridge {run['bridge']}" if method == "gan" else ""
    out.append(textwrap.fill(f"The options of a --task {task} --method {method}{bridge} run, with its values: the "
                             f"options given, else this task's and method's defaults ({hidden} more options: "
                             "--help_all).", width))
    for title, kept in groups:
        if kept:
            out += [f"{title}:", *(_line(action, run[action.dest], width) for action in kept)]
    return "\n".join(out) + "\n"
