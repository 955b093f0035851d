"""Task `oracle`: the SeqGAN synthetic benchmark. Learn the oracle LSTM's distribution from its samples.

    accelerate launch scripts/train.py --task oracle [--data_dir ../shared/data]

Data: `seqgan_oracle/target_params.npz` (the oracle, see seqgan/models/oracle.py) and
`seqgan_oracle/real_data.txt` (9,984 oracle samples, the training set). dev and test are fresh
oracle samples (--dev_size, --test_size) drawn with seeds data_seed+1 and data_seed+2.
Without the parameter file a seeded random oracle of the same shape (seed --data_seed) is used and
10,000 training samples are drawn from it, so the task runs anywhere with no data at all.

Token ids are the oracle's own (0..4999); every sequence has exactly 20 tokens and no [EOS].
Metrics: NLL_oracle = the oracle's mean NLL per token of --num_eval_samples generator samples
(SeqGAN's scale; 5.76 is the oracle's own entropy, the floor), and NLL_test = the generator's
per-token NLL on the split's held-out oracle samples.
"""

from __future__ import annotations

import functools
import sys
from types import SimpleNamespace

import torch
from datasets import Dataset, DatasetDict
from tokenizers import pre_tokenizers

from seqgan.data import Problems, encode_lines, read_lines, resolve_data_file
from seqgan.decoding.guide import GuidedGenerator
from seqgan.language_model import (  # noqa: F401  (the task contract's names, shared by the two LM tasks)
    collator,
    draw_samples,
    gpt2_config,
    latent_config,
    load_generator,
    sample_texts,
)
from seqgan.models.bigram import bigram_from_scratch
from seqgan.models.generator import CausalGenerator, causal_lm_from_scratch
from seqgan.models.latent import LatentGenerator, latent_from_scratch
from seqgan.models.oracle import OracleLSTM
from seqgan.scoring.evaluation import Decoding, SplitInputs
from seqgan.scoring.metrics import teacher_forced_nll
from seqgan.sources import own_splits
from seqgan.training.latent_gan import ARAE_RECIPE
from seqgan.vocab import build_word_tokenizer

# Options by method (tasks/__init__.py defaults): "all" for every method, then a method's own on top.
DEFAULTS = {
    # MLE: the configuration with the lowest dev NLL_test in experiments/oracle_mle.sh (dropout 0.2 at learning rate
    # 5e-4), early-stopped on it within 30 epochs.
    "all": {"max_length": 20, "num_train_epochs": 30.0, "early_stopping_patience": 3, "batch_size": 64,
            "learning_rate": 5e-4,
            "hidden_size": 128, "num_layers": 2, "num_heads": 4, "ffn_size": 512, "dropout": 0.2, "dev_size": 2000,
            "test_size": 10000, "num_eval_samples": 2000},
    # A CPU-scale adversarial run (about 10 minutes for reinforce on 2 cores).
    "gan": {"batch_size": 64, "adv_steps": 300, "d_pretrain_steps": 200, "gan_eval_every": 25},
    # CoT (seqgan/training/cot.py) from the tuned MLE run: the GAN's batch and learning rates, more rounds (a round
    # costs
    # about what a REINFORCE round does, and no reward is sampled).
    "cot": {"batch_size": 64, "adv_steps": 1000, "d_pretrain_steps": 200, "gan_eval_every": 50},
    # The bigram energy model ("D alone") starts at add-0.1 smoothed bigram counts (the best k on dev among
    # 0.003..0.3) and is refined by CRF likelihood with large batches, since each step computes the partition function
    # over 5,000 x 5,000 transitions.
    "crf": {"batch_size": 1248, "num_train_epochs": 5.0, "learning_rate": 1e-2, "weight_decay": 0.0,
            "warmup_ratio": 0.0,
            "bigram_smoothing": 0.1},
    # Generators from a prior and ARAE: as for text (tasks/text.py), with 10 epochs for random-code, ae and vae.
    "random-code": {"num_train_epochs": 10.0},
    "ae": {"num_train_epochs": 10.0},
    "vae": {"num_train_epochs": 10.0},
    "latent-gan": ARAE_RECIPE,
}
# The dev metric and direction that pick best/, by method. MLE: the checkpoint with the lowest NLL_test on dev
# (held-out
# oracle samples), the likelihood criterion an MLE baseline is tuned by. NLL_oracle keeps falling after NLL_test
# bottoms out (the generator sharpens toward its training samples), and sampling at a lower temperature buys that
# sharpening anyway, so it does not pick checkpoints; both are always reported. A GAN run keeps the adversarial state
# with the lowest dev NLL_oracle (its starting point included): what the adversarial signal is meant to improve.
# Whether that buys more than a lower temperature does is then measured by its gap to MLE's temperature curve
# (scripts/compare.py), not assumed; CoT's runs are picked as the GANs' are, to compare with them. ARAE's GAN is
# picked by dev NLL_test, like every other method here.
SELECTION = {"all": ("nll_test", "min"), "gan": ("nll_oracle", "min"), "cot": ("nll_oracle", "min")}

# The model card (seqgan/hub.py): what the model does, the data it was trained on and its license.
CARD = {
    'pipeline_tag': 'text-generation',
    'datasets': [],
    'license': 'other',
    'task_type': 'text-generation',
    'task_name': 'SeqGAN synthetic oracle',
    'dataset_type': 'seqgan-oracle',
    'dataset_name': 'SeqGAN oracle LSTM samples',
    'metrics': {'nll_oracle': 'NLL_oracle (nats/token)', 'nll_test': 'NLL_test (nats/token)'},
    'attribution': 'Trained on samples of the SeqGAN oracle LSTM (Yu et al., AAAI 2017; LantaoYu/SeqGAN). The '
                   'upstream repository states no license; cite the paper.',
    'usage': 'print(model.sample(5))  # five sequences of 20 oracle token ids',
}
# scripts/compare.py: columns (header, metric, format), and what "D alone" is for this task.
COMPARE_COLUMNS = [("NLL_oracle ↓", "nll_oracle", "{:.3f}"), ("NLL_test ↓", "nll_test", "{:.3f}")]
D_ALONE = "bigram"
# Temperature sweeps (scripts/evaluate.py --temperatures): plot panels (x, y, x label, y label).
# scripts/compare.py's gaps to MLE's temperature curve (seqgan/scoring/frontier.py): (name, x, y, better y): NLL_test
# at equal NLL_oracle, lower is better.
FRONTIER = [("gap NLL_test @ NLL_oracle", "nll_oracle", "nll_test", "min")]
# Other papers' figures on this oracle (same 10,000 training samples), beside seqgan's rows in compare.py. Caccia et
# al.'s are points of their tuned LSTM MLE's temperature curve (their published CSVs); T = 1 is (8.28, 8.06).
PUBLISHED = [
    ("SeqGAN paper (Yu et al. 2017), MLE", {"nll_oracle": 9.038}),
    ("SeqGAN paper (Yu et al. 2017), SeqGAN", {"nll_oracle": 8.736}),
    ("tuned MLE (Caccia et al. 2020), T > 1", {"nll_oracle": 9.01, "nll_test": 7.73}),
    ("tuned MLE (Caccia et al. 2020), T slightly > 1", {"nll_oracle": 8.39, "nll_test": 8.00}),
    ("tuned MLE (Caccia et al. 2020), T = 1", {"nll_oracle": 8.28, "nll_test": 8.06}),
    ("tuned MLE (Caccia et al. 2020), T < 1", {"nll_oracle": 7.75, "nll_test": 8.39}),
]

SWEEP_AXES = [
    ("nll_test", "nll_oracle", "NLL_test, nats/token (← lower: covers the data better)",
     "NLL_oracle, nats/token (↓ lower: samples the oracle finds likelier)"),
]


@functools.lru_cache(maxsize=4)
def load_oracle(data_dir: str | None, seed: int) -> tuple[OracleLSTM, bool]:
    """(oracle, is_real): the SeqGAN oracle if its file is found, else a seeded random one."""
    try:
        path = resolve_data_file("seqgan_oracle/target_params.npz", data_dir)
    except FileNotFoundError as e:
        print(f"[seqgan] {e} Using a seeded random oracle of the same shape (seed {seed}); figures will not "
              "be comparable with the SeqGAN paper.", file=sys.stderr)
        return OracleLSTM.random(seed), False
    return OracleLSTM.from_npz(path), True


def read_token_rows(path, oracle: OracleLSTM, problems: Problems | None = None) -> list[dict]:
    """Lines of exactly seq_len oracle token ids (0 .. vocab_size - 1) separated by spaces."""
    problems = problems or Problems()
    rows = []
    for lineno, line in enumerate(read_lines(path, problems=problems), start=1):
        parts = line.split()
        if len(parts) != oracle.seq_len or not all(p.isdigit() and int(p) < oracle.vocab_size for p in parts):
            problems.add(path, lineno, f"expected {oracle.seq_len} token ids in [0, {oracle.vocab_size}) "
                         f"separated by spaces, got {line[:80]!r}.")
            continue
        rows.append({"text": " ".join(parts), "line": lineno, "file": str(path)})
    if not rows and not problems.errors:
        problems.add(path, None, "no sequences found (empty file).")
    return rows


def _sampled(oracle: OracleLSTM, n: int, seed: int) -> Dataset:
    toks = oracle.sample(n, rng=torch.Generator().manual_seed(seed))
    return Dataset.from_list([{"text": " ".join(map(str, r)), "line": i + 1, "file": f"oracle samples (seed {seed})"}
                              for i, r in enumerate(toks.tolist())])


ORACLE_VOCAB = 5000  # the SeqGAN oracle's vocabulary (target_params.npz)


# tag_column: pos only
def read_file(path, problems: Problems, max_length: int, tag_column: str = "upos") -> list[dict]:
    """Id lines as training reads them: max_length ids each, every id below the oracle's vocabulary."""
    return read_token_rows(path, SimpleNamespace(seq_len=max_length, vocab_size=ORACLE_VOCAB), problems)


def summarise(rows: list[dict]) -> tuple[list[str], list[tuple[dict, int]]]:
    ids = [r["text"].split() for r in rows]
    return [f"{len(rows)} sequences, {sum(map(len, ids))} tokens, {len({i for s in ids for i in s})} distinct ids"], \
        [(r, len(s)) for r, s in zip(rows, ids)]


def load_splits(data_args) -> DatasetDict:
    oracle, real = load_oracle(data_args.data_dir, data_args.data_seed)
    if data_args.train_file:  # your own id files; without --validation_file the dev split is carved from train
        return own_splits(data_args, lambda path: read_token_rows(path, oracle), None)
    if data_args.dataset_name:
        raise ValueError("--task oracle learns from the oracle's samples or your own id files (--train_file, "
                         "--test_file), not from a 🤗 dataset.")
    if real:
        train = Dataset.from_list(read_token_rows(resolve_data_file("seqgan_oracle/real_data.txt", data_args.data_dir),
                                                  oracle))
    else:
        train = _sampled(oracle, 10000, data_args.data_seed)
    return DatasetDict({
        "train": train,
        "dev": _sampled(oracle, data_args.dev_size, data_args.data_seed + 1),
        "test": _sampled(oracle, data_args.test_size, data_args.data_seed + 2),
    })


def build_tokenizer(splits: DatasetDict | None, model_args, data_args=None):
    # Fixed vocabulary "0".."4999": token id k is oracle id k, so samples need no translation.
    return build_word_tokenizer([], fixed_vocab=[str(i) for i in range(5000)],
                                pre_tokenizer=pre_tokenizers.WhitespaceSplit())


def pretrained_generator(name: str, model_args, data_args):
    raise ValueError(f"{name} is not a seqgan oracle checkpoint: the oracle's 5,000 ids are its own vocabulary, so "
                     "a pretrained language model cannot learn it. Pretrained generators work with --task text.")


def build_generator(tokenizer, model_args, data_args, train: Dataset | None = None) -> CausalGenerator:
    specials = [tokenizer.pad_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id]
    return causal_lm_from_scratch(tokenizer, gpt2_config(tokenizer, model_args, data_args.max_length),
                                  data_args.max_length, fixed_length=True, suppress_ids=specials)


def build_crf(tokenizer, model_args, data_args, train: Dataset | None = None):
    """The discriminator-only baseline: a bigram energy model over sequences of exactly max_length tokens."""
    specials = [tokenizer.pad_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id]
    return bigram_from_scratch(tokenizer, data_args.max_length, fixed_length=True, suppress_ids=specials)


def build_latent(tokenizer, model_args, data_args, kind: str) -> LatentGenerator:
    """G from a prior (--method random-code | ae | vae; seqgan/models/latent.py), with the MLE generator's decoder
    shape."""
    specials = [tokenizer.pad_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id]
    return latent_from_scratch(latent_config(tokenizer, model_args, data_args.max_length, fixed_length=True,
                                                  suppress_ids=specials, kind=kind))


def encode(dataset: Dataset, tokenizer, gen, long: str = "error") -> Dataset:
    return encode_lines(dataset, tokenizer, gen.max_length, add_eos=False, name="oracle data", long=long)


def evaluate(gen, tokenizer, split: SplitInputs, decoding: Decoding = Decoding()) -> dict:
    loader, accelerator, data_args, sample_seed = split.loader, split.accelerator, split.data_args, split.sample_seed
    temperature, greedy, rerank = decoding.temperature, decoding.greedy, decoding.rerank
    oracle, real = load_oracle(data_args.data_dir, data_args.data_seed)
    scores = teacher_forced_nll(gen, loader, accelerator, temperature=temperature)
    if rerank is not None:
        raise ValueError("reranking (G + D decoding) applies to the conditional pos task.")
    samples = draw_samples(gen, data_args.num_eval_samples, sample_seed, temperature=temperature, greedy=greedy)
    scores.update({
        "nll_test": scores["nll"],
        "nll_oracle": oracle.nll_per_token(torch.tensor(samples)),
        "oracle": "seqgan" if real else f"random(seed={data_args.data_seed})",
        "sample_seed": sample_seed,
        "num_samples": len(samples),
        "temperature": temperature,
        "decoding": "greedy" if greedy else "sample",
    })
    if isinstance(gen, LatentGenerator):  # KL, active units, reconstructions; the NLL is an IWAE bound
        scores.update(gen.diagnostics(loader, accelerator))
    if isinstance(gen, GuidedGenerator):  # G + D: the sampler's cost, and log Z behind the residual model's NLL
        scores.update(gen.diagnostics(loader, accelerator, temperature))
    return scores
