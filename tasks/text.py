"""Task `text`: unconditional sentence generation from one-sentence-per-line files (MS-COCO captions).

    accelerate launch scripts/train.py --task text [--data_dir ../shared/data]

Data: `coco/image_coco.txt` (train; a seeded dev split of --dev_size lines is carved from it) and
`coco/test_coco.txt` (test), as used by Texygen, RelGAN and TextGAN-PyTorch.

Tokenisation: lower-case, then the `tokenizers` Whitespace pre-tokenizer, i.e. the regex
`\\w+|[^\\w\\s]+`: words and runs of punctuation become separate tokens ("wheel." -> "wheel", ".").
The vocabulary is every token seen at least twice in train (--word_min_freq 2); the rest map to
[UNK], so the model learns how likely an unseen word is (with every training word in the
vocabulary, [UNK] would never be a training target and every unseen test word would get almost no probability).
Metrics report the [UNK] rate and the NLL over the other tokens too.
Each sentence ends with [EOS]. Samples are detokenised by joining tokens with single spaces.
Metrics: per-token NLL on the split (words and [EOS] count as tokens); for --num_eval_samples fresh
samples, BLEU-2..5 against every sentence of the split (the text-GAN "test-BLEU"), leave-one-out
self-BLEU-2..5, distinct-n, n-gram entropy, unique ratio and the share copied from the training file
(all of image_coco.txt, the dev lines carved from it included).
That is `--protocol seqgan` (the default). `--protocol texygen` measures as Texygen does, so that its published rows
compare like with like: nltk.word_tokenize words, a vocabulary of train + test (no [UNK]) and Texygen's BLEU settings
(seqgan/scoring/protocols.py). Every eval JSON names its protocol ("protocol"), and so does the model card.

    accelerate launch scripts/train.py --task text --protocol texygen --output_dir runs/text-texygen-mle
"""

from __future__ import annotations

import sys

from datasets import Dataset, DatasetDict
from tokenizers import models, normalizers, pre_tokenizers

from seqgan.data import DataError, Problems, encode_lines, read_lines, resolve_data_file
from seqgan.decoding.guide import GuidedGenerator
from seqgan.language_model import (  # noqa: F401  (the task contract's names, shared by the two LM tasks)
    collator,
    draw_samples,
    gpt2_config,
    latent_config,
    load_generator,
    sample_texts,
)
from seqgan.models.bigram import BigramGenerator, bigram_from_scratch
from seqgan.models.generator import CausalGenerator, causal_lm_from_scratch, pretrained_causal_lm
from seqgan.models.latent import LatentGenerator, latent_from_scratch
from seqgan.scoring.evaluation import Decoding, SplitInputs
from seqgan.scoring.metrics import named_bleu, teacher_forced_nll, text_metrics
from seqgan.scoring.protocols import texygen_scores, texygen_words
from seqgan.sources import carve_dev, column, own_splits, training_file_splits
from seqgan.training.latent_gan import ARAE_RECIPE
from seqgan.vocab import build_word_tokenizer

# Options by method (tasks/__init__.py defaults): "all" for every method, then a method's own on top.
DEFAULTS = {
    "all": {"max_length": 48, "num_train_epochs": 15.0, "batch_size": 64, "learning_rate": 1e-3, "hidden_size": 256,
            "num_layers": 2, "dropout": 0.3, "word_min_freq": 2, "num_eval_samples": 1000},
    # A CPU-scale adversarial fine-tuning of the MLE generator, with a small G step and an MLE term (as for pos): with
    # G at 1e-4 and no MLE term, REINFORCE fell to BLEU-5 0.06 and Gumbel collapsed to empty sentences within 150
    # rounds (README, text results).
    "gan": {"batch_size": 64, "adv_steps": 300, "d_pretrain_steps": 200, "gan_eval_every": 50, "g_learning_rate": 1e-5,
            "mle_weight": 1.0},
    # CoT (seqgan/training/cot.py) from the MLE run: the GAN's batch and G's small step, no MLE term (its mediator
    # keeps
    # G near the data instead).
    "cot": {"batch_size": 64, "adv_steps": 1000, "d_pretrain_steps": 200, "gan_eval_every": 100,
            "g_learning_rate": 1e-5},
    # The bigram energy model starts at add-0.01 smoothed counts (best on dev among 0.003..0.3).
    "crf": {"batch_size": 950, "num_train_epochs": 5.0, "learning_rate": 1e-2, "weight_decay": 0.0,
            "warmup_ratio": 0.0,
            "bigram_smoothing": 0.01},
    # Generators from a prior (seqgan/models/latent.py) with the MLE generator's decoder, fewer epochs (a CPU budget:
    # each epoch's dev evaluation scores --iwae_samples codes per sequence).
    "random-code": {"num_train_epochs": 8.0},
    "ae": {"num_train_epochs": 8.0},
    "vae": {"num_train_epochs": 8.0},
    "latent-gan": ARAE_RECIPE,
}
# The dev metric and direction that pick best/, by method. No single dev metric ranks quality and diversity together,
# so a GAN run (and ARAE's and CoT's) keeps its last state as best/ (both are reported).
SELECTION = {"all": ("nll", "min"), "gan": None, "latent-gan": None, "cot": None}

# The model card (seqgan/hub.py): what the model does, the data it was trained on and its license.
CARD = {
    'pipeline_tag': 'text-generation',
    'datasets': ['HuggingFaceM4/COCO'],
    'license': 'cc-by-4.0',
    'task_type': 'text-generation',
    'task_name': 'Unconditional caption generation',
    'dataset_type': 'coco-captions',
    'dataset_name': 'MS-COCO captions (Texygen split)',
    'metrics': {'nll': 'NLL per token', 'bleu_5': 'Test-BLEU-5', 'self_bleu_5': 'Self-BLEU-5 (leave-one-out)'},
    'attribution': 'Trained on MS-COCO captions (Lin et al. 2014; Chen et al. 2015), CC BY 4.0, in the text-GAN '
                   'benchmark preparation of Texygen (geek-ai/Texygen, MIT): data/image_coco.txt, test_coco.txt.',
    'usage': 'print(model.sample(5, temperature=0.9))\nprint(model.score(["a man riding a horse on a beach ."]))  # '
             'log p(text) in nats',
}
# scripts/compare.py: columns (header, metric, format), and what "D alone" is for this task.
COMPARE_COLUMNS = [("NLL ↓", "nll", "{:.3f}"), ("BLEU-2", "bleu_2", "{:.3f}"), ("BLEU-5", "bleu_5", "{:.3f}"),
                   ("self-BLEU-5 ↓", "self_bleu_5", "{:.3f}"), ("distinct-2", "distinct_2", "{:.3f}"),
                   ("unique", "unique_ratio", "{:.1%}")]
D_ALONE = "bigram"
# Temperature sweeps (scripts/evaluate.py --temperatures): plot panels (x, y, x label, y label).
# scripts/compare.py's gaps to MLE's temperature curve (seqgan/scoring/frontier.py): (name, x, y, better y): BLEU-5 at
# equal self-BLEU-5 (higher is better) and NLL at equal BLEU-5 (lower is better).
FRONTIER = [("gap BLEU-5 @ self-BLEU-5", "self_bleu_5", "bleu_5", "max"), ("gap NLL @ BLEU-5", "bleu_5", "nll", "min")]
# Other toolkits' published figures on these files, beside seqgan's rows in compare.py. They were measured under the
# texygen protocol (PUBLISHED_PROTOCOL): compare.py marks them where its runs were measured otherwise. Texygen's
# (geek-ai/Texygen, docs/evaluation.md: test-BLEU "on test dataset" and self-BLEU; its MLE column too) are nltk
# method-1 BLEU over nltk.word_tokenize words against every test caption (its bleu_eval.py scores with
# is_fast=False): `--protocol texygen` reproduces its training-captions row to within 0.0004
# (docs/coco-texygen-protocol.md).
# RelGAN's BLEU-2 (Nie et al. 2019, temperature 100) comes without a self-BLEU, so it has no gap.
PUBLISHED = [
    ("Texygen (Zhu et al. 2018), MLE", {"bleu_2": 0.731, "bleu_5": 0.189, "self_bleu_5": 0.408}),
    ("Texygen (Zhu et al. 2018), SeqGAN", {"bleu_2": 0.745, "bleu_5": 0.180, "self_bleu_5": 0.489}),
    ("Texygen (Zhu et al. 2018), MaliGAN", {"bleu_2": 0.673, "bleu_5": 0.159, "self_bleu_5": 0.437}),
    ("Texygen (Zhu et al. 2018), RankGAN", {"bleu_2": 0.743, "bleu_5": 0.156, "self_bleu_5": 0.618}),
    ("Texygen (Zhu et al. 2018), LeakGAN", {"bleu_2": 0.746, "bleu_5": 0.230, "self_bleu_5": 0.780}),
    ("Texygen (Zhu et al. 2018), the training captions", {"bleu_2": 0.740, "bleu_5": 0.218, "self_bleu_5": 0.415}),
    ("RelGAN (Nie et al. 2019), temperature 100", {"bleu_2": 0.849}),
]
PUBLISHED_PROTOCOL = "texygen"

SWEEP_AXES = [
    ("self_bleu_5", "bleu_5", "self-BLEU-5 (← lower is more diverse)", "test-BLEU-5 (↑ higher is better quality)"),
    ("nll", "bleu_5", "NLL_gen on test, nats/token (← lower is better)", "test-BLEU-5 (↑ higher is better quality)"),
]

UPSTREAM = "https://raw.githubusercontent.com/geek-ai/Texygen/master/data/{}"
FILES = {
    "train": ("coco/image_coco.txt", "image_coco.txt",
              "2c0fd1f0f43aac6a9dc3926a535516ccf395de535e15ac1fd17cd569420736f5"),
    "test": ("coco/test_coco.txt", "testdata/test_coco.txt",
             "72e25c9fb4d2cd43182ac602c92f6ffc377762147f9709572943b0b09174bcae"),
}


def read_sentences(path, problems: Problems | None = None) -> list[dict]:
    """Non-empty lines with their line numbers. An empty line inside the file is an error (it would train a 0-word
    sentence, or shift what the user counts as line N); blank lines at the very end are ignored."""
    problems = problems or Problems()
    rows = []
    lines = read_lines(path, problems=problems)
    while lines and not lines[-1].strip():
        lines.pop()
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            problems.add(path, lineno, "empty line; remove it (every line must hold one sentence).")
            continue
        rows.append({"text": line.strip(), "line": lineno, "file": str(path)})
    if not rows and not problems.errors:
        problems.add(path, None, "no sentences found (empty file).")
    return rows


# tag_column: pos only
def read_file(path, problems: Problems, max_length: int, tag_column: str = "upos") -> list[dict]:
    return read_sentences(path, problems)


def summarise(rows: list[dict]) -> tuple[list[str], list[tuple[dict, int]]]:
    """check_data.py's summary and each line's length in tokens with [EOS], split as the tokenizer splits
    (lower-case, then the Whitespace pre-tokenizer): what --max_length counts."""
    split = pre_tokenizers.Whitespace()
    toks = [[w for w, _ in split.pre_tokenize_str(r["text"].lower())] for r in rows]
    lengths = [(r, len(t) + 1) for r, t in zip(rows, toks)]  # + [EOS]
    return [f"{len(rows)} sentences, {sum(map(len, toks))} tokens, vocabulary {len({w for t in toks for w in t})}, "
            f"longest {max(n for _, n in lengths)} tokens with [EOS]"], lengths


def rows_from_dataset(ds: Dataset, where: str, data_args) -> list[dict]:
    """Rows of a 🤗 dataset split: one sentence per row of --text_column (row k is "line" k + 1 in errors)."""
    rows = []
    for k, text in enumerate(column(ds, data_args.text_column, "text_column", where)):
        if not isinstance(text, str) or not text.strip():
            raise DataError(where, k + 1, f"--text_column {data_args.text_column!r} must hold a non-empty sentence, "
                            f"got {text!r}; drop empty rows first (ds.filter).")
        rows.append({"text": text.strip(), "line": k + 1, "file": where})
    return rows


def load_splits(data_args) -> DatasetDict:
    own = own_splits(data_args, read_sentences, lambda ds, where: rows_from_dataset(ds, where, data_args))
    if own is None:
        paths = {k: resolve_data_file(rel, data_args.data_dir, url=UPSTREAM.format(up), sha256=sha)
                 for k, (rel, up, sha) in FILES.items()}
        train, dev = carve_dev(read_sentences(paths["train"]), data_args.dev_size, data_args.data_seed,
                               str(paths["train"]))
        own = DatasetDict({"train": Dataset.from_list(train), "dev": Dataset.from_list(dev),
                           "test": Dataset.from_list(read_sentences(paths["test"]))})
    if data_args.protocol == "texygen":  # Texygen's words (utils/text_process.py: nltk.word_tokenize of the
        # lower-cased line), joined by single spaces: the tokenizer then splits them back exactly (WhitespaceSplit).
        own = DatasetDict({k: _texygen_split(ds) for k, ds in own.items()})
    return own


def _texygen_split(ds: Dataset) -> Dataset:
    rows = ds.to_list()
    return Dataset.from_list([{**r, "text": " ".join(w)} for r, w in zip(rows,
                                                                         texygen_words([r["text"].lower()
                                                                                        for r in rows]))])


def build_tokenizer(splits: DatasetDict, model_args, data_args):
    """seqgan's protocol: words of train seen >= --word_min_freq times. texygen: every word of train, dev and test
    (the training and test files together, as RelGAN and TextGAN-PyTorch build it), so no test word is [UNK]."""
    if data_args.protocol == "texygen":
        texts = [t for k in ("train", "dev", "test") for t in splits[k]["text"]]
        return build_word_tokenizer(texts, min_freq=1, normalizer=normalizers.Lowercase(),
                                    pre_tokenizer=pre_tokenizers.WhitespaceSplit())
    return build_word_tokenizer(splits["train"]["text"], min_freq=model_args.word_min_freq,
                                normalizer=normalizers.Lowercase(), pre_tokenizer=pre_tokenizers.Whitespace())


def build_generator(tokenizer, model_args, data_args, train: Dataset | None = None) -> CausalGenerator:
    return causal_lm_from_scratch(tokenizer, gpt2_config(tokenizer, model_args, data_args.max_length),
                                  data_args.max_length, fixed_length=False,
                                  suppress_ids=[tokenizer.pad_token_id, tokenizer.bos_token_id])


def build_crf(tokenizer, model_args, data_args, train: Dataset | None = None) -> BigramGenerator:
    """The discriminator-only baseline: a bigram energy model with an [EOS]-terminated length model."""
    return bigram_from_scratch(tokenizer, data_args.max_length, fixed_length=False,
                               suppress_ids=[tokenizer.pad_token_id, tokenizer.bos_token_id])


def build_latent(tokenizer, model_args, data_args, kind: str) -> LatentGenerator:
    """G from a prior (--method random-code | ae | vae; seqgan/models/latent.py), with the MLE generator's decoder
    shape."""
    return latent_from_scratch(latent_config(tokenizer, model_args, data_args.max_length, fixed_length=False,
                                             suppress_ids=[tokenizer.pad_token_id, tokenizer.bos_token_id], kind=kind))


def encode(dataset: Dataset, tokenizer, gen, long: str = "error") -> Dataset:
    return encode_lines(dataset, tokenizer, gen.max_length, add_eos=True, name="text data", long=long)


SPLIT, LOWER = pre_tokenizers.Whitespace(), normalizers.Lowercase()


def words(texts: list[str]) -> list[list[str]]:
    """The task's word tokenization, whatever the model's tokenizer: lower-case, then `\\w+|[^\\w\\s]+`. BLEU,
    self-BLEU, diversity and copies are counted on these words, so they compare across tokenizers."""
    return [[w for w, _ in SPLIT.pre_tokenize_str(LOWER.normalize_str(t))] for t in texts]


def sample_words(tokenizer, samples: list[list[int]]) -> list[list[str]]:
    """Samples (ids) as the task's words. seqgan's own word-level vocabulary maps ids to words directly ([UNK]
    stays one word); a subword tokenizer's (GPT-2's BPE, ...) output is decoded to text first, then split."""
    if isinstance(tokenizer.backend_tokenizer.model, models.WordLevel):
        return [tokenizer.convert_ids_to_tokens(s) for s in samples]
    return words(tokenizer.batch_decode(samples, skip_special_tokens=True))


def texygen_metrics(samples: list[list[str]], references: list[list[str]], training_file: list[list[str]]) -> dict:
    """--protocol texygen: each sample written as its words joined by spaces and re-tokenised, as Texygen scores its
    generator file, against the split's words (Texygen's already): BLEU-n against every reference and leave-one-out
    self-BLEU-n over every sample (the setting of its published tables), and its fast setting as texygen_fast_*."""
    hyps = texygen_words([" ".join(s) for s in samples])
    tm = text_metrics(hyps, references=references, train=training_file)
    return {**named_bleu(tm), **texygen_scores(hyps, references),
            **{k: v for k, v in tm.items() if k not in ("test_bleu", "self_bleu")}}


def pretrained_generator(name: str, model_args, data_args) -> tuple[CausalGenerator, object]:
    """G from any pretrained causal LM with its own tokenizer (a local folder or a resolved Hub snapshot)."""
    return pretrained_causal_lm(name, data_args.max_length, fixed_length=False,
                                trust_remote_code=model_args.trust_remote_code,
                                log=lambda m: print(m, file=sys.stderr))


def evaluate(gen, tokenizer, split: SplitInputs, decoding: Decoding = Decoding()) -> dict:
    """NLL of the split, then quality and diversity of fresh samples: BLEU-2..5 against the whole split,
    leave-one-out self-BLEU-2..5, distinct-n, n-gram entropy, unique ratio and the train copy rate."""
    loader, accelerator, dataset, splits = split.loader, split.accelerator, split.dataset, split.splits
    data_args, sample_seed = split.data_args, split.sample_seed
    temperature, greedy, rerank = decoding.temperature, decoding.greedy, decoding.rerank
    scores = teacher_forced_nll(gen, loader, accelerator, unk_id=tokenizer.unk_token_id, temperature=temperature)
    if rerank is not None:
        raise ValueError("reranking (G + D decoding) applies to the conditional pos task.")
    ids = draw_samples(gen, data_args.num_eval_samples, sample_seed, temperature=temperature, greedy=greedy)
    samples = sample_words(tokenizer, ids)
    # Copies are counted against the whole training file, the dev lines carved from it included.
    training_file = [t for k in training_file_splits(splits) for t in splits[k]["text"]]
    texygen = data_args.protocol == "texygen"  # the split's lines are Texygen's words joined by spaces already
    references = [t.split() for t in dataset["text"]] if texygen else words(dataset["text"])
    # Per word (and [EOS]) of the task's tokenization: comparable across tokenizers, unlike per model token.
    scores["nll_per_word"] = scores["nll"] * scores["num_tokens"] / sum(len(r) + 1 for r in references)
    if texygen:
        tm = texygen_metrics(samples, references, [t.split() for t in training_file])
    else:
        tm = text_metrics(samples, references=references, train=words(training_file))
        scores.update(named_bleu(tm))
        tm = {k: v for k, v in tm.items() if k not in ("test_bleu", "self_bleu")}
    scores.update({"sample_seed": sample_seed, "temperature": temperature,
                   "decoding": "greedy" if greedy else "sample",
                   "protocol": data_args.protocol, **tm})
    scores["samples"] = [" ".join(s) for s in samples[:10]]
    if isinstance(gen, LatentGenerator):  # KL, active units, reconstructions; the NLL is an IWAE bound
        scores.update(gen.diagnostics(loader, accelerator))
        scores["nll_known"] = None  # the bound is spread evenly over tokens: no per-token split into known words
    if isinstance(gen, GuidedGenerator):  # G + D: the sampler's cost, and log Z behind the residual model's NLL
        scores.update(gen.diagnostics(loader, accelerator, temperature))
        scores["nll_known"] = None  # γ d(x) − log Z is spread evenly over tokens, as for the latent models
    return scores
