"""Task `pos`: UPOS tagging as structured output, sentence -> tag sequence (UD English EWT v2.16).

    accelerate launch scripts/train.py --task pos [--data_dir ../shared/data]

Data: `ud_en_ewt/en_ewt-ud-{train,dev,test}.conllu` under --data_dir / $SEQGAN_DATA_DIR, or
downloaded from the UD_English-EWT r2.16 release into ~/.cache/seqgan (sha256-checked).
Words are CoNLL-U lines with an integer ID; multiword-token ranges (3-4) and empty nodes (8.1)
are skipped. Metrics: UPOS accuracy (overall, on words seen / unseen in training), sentence exact
match, per-tag precision/recall/F1, and the share of predicted tag bigrams never seen in training.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass
from functools import partial

import torch
from datasets import Dataset, DatasetDict
from tokenizers import Regex, normalizers
from tqdm.auto import tqdm

from seqgan.checkpoint import resolve_checkpoint
from seqgan.conllu import UPOS_TAGS, read_conllu, to_conllu  # noqa: F401  (the task's reader and writer)
from seqgan.data import DataError, Problems, pad_sequences, resolve_data_file, warn_truncated
from seqgan.models.crf_tagger import CrfTaggerGenerator, SeqGanCrfTagger, SeqGanCrfTaggerConfig
from seqgan.models.energy_tagger import EnergyTaggerGenerator, SeqGanEnergyTagger, SeqGanEnergyTaggerConfig
from seqgan.models.hmm import HmmTaggerGenerator, SeqGanHmmTaggerConfig, fit_hmm
from seqgan.models.pretrained import load_pretrained
from seqgan.models.subwords import encoder_tokenizer, load_encoder, position_limit, special_ends, word_pieces
from seqgan.models.tagger import SeqGanTagger, SeqGanTaggerConfig, TaggerGenerator, word_bytes
from seqgan.scoring.evaluation import Decoding, SplitInputs
from seqgan.scoring.metrics import tag_bigrams, tagging_scores, teacher_forced_nll
from seqgan.sources import column, label_names, own_splits
from seqgan.vocab import build_word_tokenizer, encode_words

# Options by method (tasks/__init__.py defaults): "all" for every method, then a method's own on top.
DEFAULTS = {
    # 16 epochs with the weights averaged: on EWT dev (seed 42) 94.35% UPOS at 16 epochs, 94.45% averaged, against
    # 93.8% for the earlier 6 epochs (README, POS results); the longest schedule that keeps the default run near 20
    # minutes on 2 cores.
    "all": {
        "max_length": 256,
        "num_train_epochs": 16.0,
        "average_weights": True,
        "min_steps": 1200,  # a small treebank (AfriBooms: 1,315 sentences, 41 steps an epoch) trains 30 epochs, EWT 16
        "batch_size": 32,
        "learning_rate": 1e-3,
        "hidden_size": 256,
        "num_layers": 2,
        "dropout": 0.2,
        # Picked on dev by experiments/pos_mle.sh (seed 42): the BiLSTM and the higher word dropout each added about
        # 0.3 points of dev UPOS to the Transformer encoder's 94.45%, and together 0.5.
        "sentence_encoder": "lstm",
        "word_dropout": 0.25,
    },
    # The default command: 14 epochs, not 16, to train in 10 minutes on 2 cores (issue 36; docs/pos-speed.md has the
    # three seeds against release 0.3.0's 16). The other methods keep 16: their results were measured with it.
    "mle": {"num_train_epochs": 14.0},
    # The CRF baseline with the MLE tagger's encoder and settings, two epochs more (the perceptron and hinge losses
    # learn only from sentences the model still gets wrong).
    "crf": {"num_train_epochs": 18.0},
    # Counting over every training word (the suffix model handles the words never seen).
    "hmm": {"word_min_freq": 1},
    # Fine-tune the MLE tagger against D(sentence, tags) with a small step and an MLE term, so the adversarial signal
    # adjusts G's tag sequences without undoing what likelihood taught it.
    "gan": {"batch_size": 32, "adv_steps": 200, "d_pretrain_steps": 200, "g_learning_rate": 2e-5, "mle_weight": 1.0,
            "gan_eval_every": 50, "samples_per_input": 4},
}
SELECTION = {"all": ("accuracy", "max")}  # the dev metric and direction that pick best/, by method


# The model card (seqgan/hub.py): what the model does, the data it was trained on and its license.
CARD = {
    'pipeline_tag': 'token-classification',
    'datasets': ['universal_dependencies'],
    'license': 'cc-by-sa-4.0',
    'task_type': 'token-classification',
    'task_name': 'Part-of-speech tagging (UPOS)',
    'dataset_type': 'universal_dependencies',
    'dataset_name': 'UD English EWT v2.16',
    'dataset_config': 'en_ewt',
    'metrics': {'accuracy': 'UPOS accuracy', 'exact_match': 'Sentence exact match',
                'unknown_word_accuracy': 'Accuracy on words unseen in training'},
    'attribution': 'Trained on Universal Dependencies English EWT v2.16 (annotations © Stanford University, text from '
                   'the LDC English Web Treebank), licensed CC BY-SA 4.0: '
                   'https://github.com/UniversalDependencies/UD_English-EWT. As a work trained on it, this model is '
                   'shared under the same terms (CC BY-SA 4.0); attribute the treebank when you reuse it.',
    'usage': 'print(model.tag(["The dog barks."]))  # [[("The", "DET"), ("dog", "NOUN"), ...]]\n# or on the command '
             'line:  seqgan-generate --checkpoint {repo_id} --sentence "The dog barks."',
}
# scripts/compare.py: columns (header, metric, format), and what "D alone" is for this task.
COMPARE_COLUMNS = [("UPOS acc.", "accuracy", "{:.2%}"), ("unknown words", "unknown_word_accuracy", "{:.2%}"),
                   ("sentence exact", "exact_match", "{:.2%}"), ("unseen tag bigrams", "unseen_bigram_rate", "{:.3%}"),
                   # --method energy: G's output against Viterbi on D's first-order part (tasks/pos.py search_scores)
                   ("sentences below first-order Viterbi", "search_error/sentences_below_viterbi", "{:.2%}"),
                   ("words ≠ first-order Viterbi", "search_error/words_differing", "{:.2%}")]
D_ALONE = "CRF"
# scripts/compare.py's paired test against MLE: (header, per-sentence word counts, per-sentence errors) of the eval
# JSON.
PAIRED_TEST = ("UPOS Δ points [95% CI], p", "sentence_words", "sentence_errors")
# Other taggers' published test UPOS on EWT with gold tokenisation and no pretrained contextual encoder, beside
# seqgan's rows in compare.py (their UD releases are older than v2.16: anchors, not paired comparisons).
PUBLISHED = [
    ("UDPipe 1 (Straka & Straková 2017)", {"accuracy": 0.944}),
    ("Stanza, non-transformer tagger (Qi et al. 2020)", {"accuracy": 0.9540}),
]
# Temperature sweeps (scripts/evaluate.py --temperatures): plot panels (x, y, x label, y label).
SWEEP_AXES = []  # pos decodes greedily: no temperature sweeps

UPSTREAM = "https://raw.githubusercontent.com/UniversalDependencies/UD_English-EWT/r2.16/en_ewt-ud-{}.conllu"
DEFAULT_FILE = "ud_en_ewt/en_ewt-ud-{}.conllu"  # a split's file under --data_dir when no --*_file is given
SHA256 = {
    "train": "3fb78e2b55482c8ee00caa653af436c88c9e5bc9a73ce26e4ae3ddc79d2b7e7b",
    "dev": "531a54ff90d6ab12201c5a50c3e78e6ddac4de69abc4bce5d275d3cd29efe2b6",
    "test": "e266e515a0a7547657ed3d90d9ba46487d6bd251f27ad4269d4e8a427c8555cd",
}


def read_file(path, problems: Problems, max_length: int, tag_column: str = "upos") -> list[dict]:
    return read_conllu(path, problems, tag_column)


def summarise(rows: list[dict]) -> tuple[list[str], list[tuple[dict, int]]]:
    """check_data.py's summary and each sentence's length in words (what --max_length counts)."""
    tags = Counter(t for r in rows for t in r["tags"])
    lengths = [(r, len(r["words"])) for r in rows]
    return [f"{len(rows)} sentences, {sum(n for _, n in lengths)} words, longest {max(n for _, n in lengths)} words",
            "tags: " + ", ".join(f"{t} {c}" for t, c in tags.most_common())], lengths


def rows_from_dataset(ds: Dataset, where: str, data_args) -> list[dict]:
    """Rows of a 🤗 dataset split: words from --tokens_column, tags from --tags_column (strings, or a ClassLabel
    sequence mapped to its names). Row k is "line" k + 1 of `where` in error messages."""
    words = column(ds, data_args.tokens_column, "tokens_column", where)
    tags = column(ds, data_args.tags_column, "tags_column", where)
    names = label_names(ds, data_args.tags_column)
    rows = []
    for k, (w, t) in enumerate(zip(words, tags)):
        t = [names[i] for i in t] if names else list(t)
        if len(w) != len(t) or not w:
            raise DataError(where, k + 1, f"{len(w)} words but {len(t)} tags; every word needs one tag "
                            "(and a row needs at least one word).")
        if not all(isinstance(x, str) and x for x in [*w, *t]):
            raise DataError(where, k + 1, f"--tokens_column {data_args.tokens_column!r} and --tags_column "
                            f"{data_args.tags_column!r} must hold lists of non-empty strings (or tag ids of a "
                            "ClassLabel).")
        rows.append({"sent_id": f"{where}:{k + 1}", "words": list(w), "tags": t, "line": k + 1, "file": where})
    return rows


def most_frequent_tag_accuracy(train: list[dict], test: list[dict]) -> float:
    """The classic baseline: each (lower-cased) word's most frequent training tag; a word unseen in training gets
    the most frequent tag overall. Ties break alphabetically, so the figure is a pure function of the data."""
    by_word, overall = {}, Counter()
    for s in train:
        for w, t in zip(s["words"], s["tags"]):
            by_word.setdefault(w.lower(), Counter())[t] += 1
            overall[t] += 1
    best = {w: min(c, key=lambda t: (-c[t], t)) for w, c in by_word.items()}
    fallback = min(overall, key=lambda t: (-overall[t], t))
    pairs = [(best.get(w.lower(), fallback), t) for s in test for w, t in zip(s["words"], s["tags"])]
    return sum(p == g for p, g in pairs) / len(pairs)


def load_splits(data_args) -> DatasetDict:
    own = own_splits(data_args, lambda path: read_conllu(path, tag_column=data_args.tag_column),
                     lambda ds, where: rows_from_dataset(ds, where, data_args))
    if own is not None:
        return own
    splits = {}
    for split in ("train", "dev", "test"):
        path = resolve_data_file(DEFAULT_FILE.format(split), data_args.data_dir,
                                 url=UPSTREAM.format(split), sha256=SHA256[split])
        splits[split] = Dataset.from_list(read_conllu(path, tag_column=data_args.tag_column))
    return DatasetDict(splits)


def build_tokenizer(splits: DatasetDict, model_args, data_args=None):
    """The word table of the training split (a pretrained encoder brings its own subword tokenizer)."""
    train = splits["train"]
    if model_args.encoder_name_or_path:  # a pretrained encoder reads words through its own subword tokenizer
        return encoder_tokenizer(encoder_path(model_args), model_args.trust_remote_code)
    # Lower-case and map digits to 0 for the word table; the byte CNN still sees the raw form.
    norm = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase(), normalizers.Replace(Regex(r"\d"), "0")])
    return build_word_tokenizer((w for s in train["words"] for w in s), min_freq=model_args.word_min_freq,
                                normalizer=norm)


def tag_set(train: Dataset | None) -> list[str]:
    """The tags seen in training: universal tags in their usual order, then any others sorted (XPOS, or a
    dataset's own labels). Without training data (a bare model for tests), the 17 UPOS tags."""
    if train is None:
        return list(UPOS_TAGS)
    seen = {t for s in train["tags"] for t in s}
    return [t for t in UPOS_TAGS if t in seen] + sorted(seen - set(UPOS_TAGS))


def pretrained_generator(name: str, model_args, data_args):
    raise ValueError(f"{name} is not a seqgan pos checkpoint. A pretrained encoder (BERT, RoBERTa, ...) goes in "
                     "--encoder_name_or_path; --generator_name_or_path takes a seqgan tagger run.")


def encoder_path(model_args) -> str:
    return str(resolve_checkpoint(model_args.encoder_name_or_path))  # a local folder, or the Hub snapshot's


def with_encoder(model, model_args):
    """The model with --encoder_name_or_path's pretrained weights in its encoder (it was built from the config)."""
    if model_args.encoder_name_or_path:
        encoder = load_encoder(encoder_path(model_args), model_args.trust_remote_code)
        state = {k: v for k, v in encoder.state_dict().items() if not k.startswith("pooler.")}  # unused: dropped
        missing, unexpected = model.encoder.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(f"{model_args.encoder_name_or_path}: the encoder's weights do not fit its own config "
                             f"(missing {missing[:3]}, unexpected {unexpected[:3]}).")
    return model


def build_generator(tokenizer, model_args, data_args, train: Dataset | None = None) -> TaggerGenerator:
    return TaggerGenerator(with_encoder(SeqGanTagger(tagger_config(tokenizer, model_args, data_args, train)),
                                        model_args))


def tagger_config(tokenizer, model_args, data_args, train: Dataset | None = None) -> SeqGanTaggerConfig:
    tags = tag_set(train)
    encoder = None
    if getattr(model_args, "encoder_name_or_path", None):
        from transformers import AutoConfig

        encoder = AutoConfig.from_pretrained(encoder_path(model_args),
                                             trust_remote_code=model_args.trust_remote_code).to_dict()
    return SeqGanTaggerConfig(
        encoder_config=encoder, encoder_name=getattr(model_args, "encoder_name_or_path", None),
        tags=tags, tag_column="upos" if data_args.tag_column == "upos" and set(tags) <= set(UPOS_TAGS) else "xpos",
        word_vocab_size=len(tokenizer), hidden_size=model_args.hidden_size, num_layers=model_args.num_layers,
        num_heads=model_args.num_heads, ffn_size=model_args.ffn_size, dropout=model_args.dropout,
        decoder_layers=model_args.decoder_layers, char_dim=model_args.char_dim, char_filters=model_args.char_filters,
        max_positions=data_args.max_length, prev_tag_dropout=model_args.prev_tag_dropout,
        word_dropout=model_args.word_dropout, word_unk_id=tokenizer.unk_token_id,
        sentence_encoder=model_args.sentence_encoder,
    )


def build_crf(tokenizer, model_args, data_args, train: Dataset | None = None) -> CrfTaggerGenerator:
    """The discriminator-only baseline: a linear-chain CRF over the same kind of encoder as the generator's."""
    cfg = SeqGanCrfTaggerConfig(**tagger_config(tokenizer, model_args, data_args, train).to_dict())
    return CrfTaggerGenerator(with_encoder(SeqGanCrfTagger(cfg), model_args))


def build_energy(tokenizer, model_args, data_args, train: Dataset | None = None,
                 terms: list[str] = ()) -> EnergyTaggerGenerator:
    """G + D trained together: an energy over tag sequences (the CRF's terms and `terms`, global ones) and an inference
    network, each with its own encoder of the tagger's kind."""
    cfg = SeqGanEnergyTaggerConfig(**tagger_config(tokenizer, model_args, data_args, train).to_dict(),
                                   energy_terms=list(terms))
    return EnergyTaggerGenerator(SeqGanEnergyTagger(cfg))


def build_hmm(tokenizer, model_args, data_args, train: Dataset, crf_args) -> HmmTaggerGenerator:
    """D alone, generatively: a supervised HMM over the training sentences (seqgan/models/hmm.py), estimated by
    counting."""
    cfg = SeqGanHmmTaggerConfig(**tagger_config(tokenizer, model_args, data_args, train).to_dict(),
                                smoothing=crf_args.hmm_smoothing, suffix_length=crf_args.hmm_suffix_length,
                                rare_max=crf_args.hmm_rare_max, order=crf_args.hmm_order)
    return HmmTaggerGenerator(fit_hmm(train["words"], train["tags"], cfg.tags, tokenizer, cfg))


def load_generator(path: str, tokenizer) -> TaggerGenerator:
    gen = TaggerGenerator(load_pretrained(SeqGanTagger, path))
    if gen.model.config.word_vocab_size != len(tokenizer):
        raise ValueError(f"{path}: the tokenizer has {len(tokenizer)} words but the model's word table has "
                         f"{gen.model.config.word_vocab_size}; load the tokenizer saved with this checkpoint.")
    return gen


UNSEEN_TAG = -1  # label of a dev/test gold tag outside the model's tag set (it can only be counted wrong)


def encode(dataset: Dataset, tokenizer, gen, long: str = "error") -> Dataset:
    """Add model inputs: word ids, byte ids, tag ids and length. Sentences longer than the model's
    max_length are refused (long="error") or cut to it (long="truncate", reported on stderr)."""
    cfg = gen.model.config
    tag_id = {t: i for i, t in enumerate(cfg.tags)}
    inputs = model_inputs(tokenizer, cfg)

    def one(ex, index):
        words, tags = ex["words"], ex["tags"]
        x, kept = inputs(words)
        too_long = kept < len(words)
        if too_long and long == "error":
            where = f"{ex['file']}:{ex['line']}" if ex.get("file") else ex["sent_id"]
            why = (f"{len(words)} words, more than --max_length {cfg.max_positions}; raise --max_length"
                   if len(words) > cfg.max_positions else
                   f"more subwords than the encoder {cfg.encoder_name} reads at once (its limit is "
                   f"{position_limit(tokenizer, cfg.encoder_config)}); split the sentence")
            raise DataError(where, None,
                            f"sentence {ex['sent_id']} has {why} (or --long_sequences truncate, for training "
                            "data).")
        # unseen gold tag: scored, not trained
        return {**x, "labels": [tag_id.get(t, UNSEEN_TAG) for t in tags[:kept]],
                "length": kept, "index": index, "truncated": too_long}

    out = dataset.map(one, with_indices=True, desc="encoding pos")
    warn_truncated(out, "pos data", cfg.max_positions)
    return out


def model_inputs(tokenizer, cfg):
    """words -> (model inputs, number of words kept): word ids and bytes (from scratch), or with a pretrained encoder
    its subwords and each word's first position (word_ids are then those first subwords' ids, which D reads)."""
    if not cfg.encoder_config:
        def inputs(words):
            words = words[: cfg.max_positions]
            return {"word_ids": encode_words(tokenizer, words),
                    "char_ids": [word_bytes(w, cfg.max_word_bytes) for w in words]}, len(words)
        return inputs
    limit, ends = position_limit(tokenizer, cfg.encoder_config), special_ends(tokenizer)

    def inputs(words):
        sub, first, kept = word_pieces(tokenizer, words[: cfg.max_positions], limit, ends)
        return {"word_ids": [sub[i] for i in first], "char_ids": [[0]] * kept, "sub_ids": sub, "first": first}, kept
    return inputs


def collator(tokenizer):
    return partial(collate, sub_pad=tokenizer.pad_token_id)


def pad_words(sentences: list[list[list[int]]], T: int) -> torch.Tensor:
    """Each sentence's words' byte ids -> (B, T, C) zero-padded, C >= 6 (the widest CNN kernel). One scatter for
    the whole batch: 0.9 ms for the whole collate, where a tensor copy per word took 2.75 ms (docs/pos-speed.md)."""
    words = [c for s in sentences for c in s]
    lens = torch.tensor([len(c) for c in words], dtype=torch.long)  # (W,) bytes per word, sentence by sentence
    C = max([6, *lens.tolist()])
    rows = torch.cat([torch.arange(len(s)) + i * T for i, s in enumerate(sentences)])  # (W,) row in (B*T, C)
    starts = lens.cumsum(0) - lens  # (W,) each word's first byte in the flat list
    cols = torch.arange(int(lens.sum())) - starts.repeat_interleave(lens)  # (N,) byte position within its word
    chars = torch.zeros(len(sentences) * T, C, dtype=torch.long)  # (B*T, C)
    chars[rows.repeat_interleave(lens), cols] = torch.tensor([b for c in words for b in c], dtype=torch.long)
    return chars.view(len(sentences), T, C)  # (B, T, C)


def collate(examples: list[dict], sub_pad: int | None = 0) -> dict:
    words = pad_sequences([e["word_ids"] for e in examples], 0)  # (B, T)
    B, T = words.shape
    chars = pad_words([e["char_ids"] for e in examples], T)  # (B, T, C)
    mask = torch.arange(T)[None, :] < torch.tensor([e["length"] for e in examples])[:, None]  # (B, T)
    out = {"word_ids": words, "char_ids": chars, "labels": pad_sequences([e["labels"] for e in examples], 0),
           "mask": mask, "index": torch.tensor([e["index"] for e in examples])}
    if "sub_ids" in examples[0]:  # a pretrained encoder's subwords: (B, S) ids and mask, (B, T) first positions
        out["sub_ids"] = pad_sequences([e["sub_ids"] for e in examples], sub_pad)
        out["sub_mask"] = torch.arange(out["sub_ids"].shape[1])[None, :] < torch.tensor([len(e["sub_ids"])
                                                                                         for e in examples])[:, None]
        out["first"] = pad_sequences([e["first"] for e in examples], 0)
    return out


@torch.no_grad()
def predict(gen: TaggerGenerator, loader, accelerator, rerank=None) -> dict[int, list[int]]:
    """Greedy (or, for a CRF, Viterbi) tag ids per example index, gathered across processes; with
    `rerank` (seqgan.decoding.rerank.Reranker) the best of greedy + K samples under a discriminator's score."""
    gen.eval()
    preds = {}
    for batch in loader:
        out = gen.sample(batch, greedy=True)
        tokens = out.tokens if rerank is None else rerank(gen, batch, out.tokens)
        rows = [(int(i), tokens[k][out.mask[k]].tolist()) for k, i in enumerate(batch["index"])]
        for i, tags in accelerator.gather_for_metrics(rows, use_gather_object=True):
            preds[i] = tags
    return preds


def evaluate(gen, tokenizer, split: SplitInputs, decoding: Decoding = Decoding()) -> dict:
    """pos always decodes greedily (Viterbi for the CRF); `greedy` is accepted for a uniform signature."""
    loader, accelerator, dataset, splits = split.loader, split.accelerator, split.dataset, split.splits
    sample_seed, temperature, rerank = split.sample_seed, decoding.temperature, decoding.rerank
    if temperature != 1.0:
        raise ValueError("pos is evaluated by greedy decoding; temperatures apply to the text and oracle tasks.")
    tags = gen.model.config.tags
    preds = predict(gen, loader, accelerator, rerank)
    if sorted(preds) != list(range(len(dataset))):
        raise RuntimeError(f"evaluation saw {len(preds)} of {len(dataset)} sentences")
    pred = [[tags[t] for t in preds[i]] for i in range(len(dataset))]
    train_words = {w for s in splits["train"]["words"] for w in s}
    train_bigrams = {b for s in splits["train"]["tags"] for b in tag_bigrams(s)}
    # Only a training-file row can be truncated (a dev split carved from it, under --long_sequences truncate): it
    # is scored on the words the model read. Rows of dev and test files always fit whole (encode refuses others).
    n = dataset["length"]
    gold = [t[:k] for t, k in zip(dataset["tags"], n)]
    scores = tagging_scores(pred, gold, [w[:k] for w, k in zip(dataset["words"], n)], train_words, train_bigrams,
                            tagset=list(tags))
    # Gold tags outside the tag set (never seen in training) count as errors in accuracy; the NLL covers the rest.
    unseen = Counter(t for s in gold for t in s if t not in set(tags))
    scores["unseen_gold_tags"] = dict(unseen.most_common())
    scores["unseen_gold_tag_rate"] = sum(unseen.values()) / max(1, sum(map(len, gold)))
    scores["nll"] = teacher_forced_nll(gen, loader, accelerator)["nll"]
    if hasattr(gen, "search_error"):  # --method energy: G's search against Viterbi on D's first-order part
        scores.update(search_scores(gen, loader, accelerator))
    scores["sample_seed"] = sample_seed  # pos decodes greedily; recorded like every task's, and used by reranking
    if rerank is not None:
        scores.update(rerank.describe())
    return scores


@torch.no_grad()
def search_scores(gen, loader, accelerator) -> dict:
    """An energy tagger's G against Viterbi on D's first-order part (EnergyTaggerGenerator.search_error): the share
    of sentences where G's path scores below Viterbi's, the mean score gap, and the share of words where they differ.
    D's exact argmax where D has no global terms (--energy_terms none)."""
    gen.eval()
    sums = torch.zeros(5, dtype=torch.float64)  # sentences below Viterbi, gap, words differing, words, sentences
    for batch in loader:
        err = gen.search_error(batch)  # (B, 3), float64 on the batch's device
        per = torch.cat([err, batch["mask"].sum(1, keepdim=True).to(err), torch.ones_like(err[:, :1])], 1)  # (B, 5)
        sums += accelerator.gather_for_metrics(per).sum(0).cpu()
    below, gap, differ, words, sentences = sums.tolist()
    return {"search_error/sentences_below_viterbi": below / max(sentences, 1),
            "search_error/mean_score_gap": gap / max(sentences, 1),
            "search_error/words_differing": differ / max(words, 1)}


# Raw input lines are split into words and punctuation: a word is a run of letters/digits that may hold
# internal hyphens, apostrophes, dots or commas ("well-known", "don't", "3.5", "3,5", "e.g"), and every other non-space
# character is a token of its own ("duck." -> "duck", "."). UD treebanks split some of these further (EWT: "do",
# "n't"); pass --pretokenized with your own tokenisation to match a treebank exactly.
WORD = re.compile(r"\w+(?:[-'’.,]\w+)*|[^\w\s]")


def split_words(line: str, pretokenized: bool = False) -> list[str]:
    """The words of one input line: split on spaces (pretokenized) or by WORD (raw text)."""
    return line.split() if pretokenized else WORD.findall(line)


@dataclass
class Tagged:
    """One input line's result: its words and tags (empty for an empty line), and a note (truncated, skipped)."""
    line: int
    text: str
    words: list[str]
    tags: list[str]
    note: str | None = None


@torch.no_grad()
def tag_lines(gen, tokenizer, lines: list[str], batch_size: int = 64, pretokenized: bool = False,
              long: str = "truncate", progress: bool = False, rerank=None) -> list[Tagged]:
    """Tag every input line, in batches of `batch_size` sentences (bounded memory). Output has one entry per line:
    an empty line stays (with no words); a line longer than the model's max_length is cut to it ("truncate",
    noted) or left untagged ("skip", noted). With `rerank`, G + D decoding (_tag_batch)."""
    if long not in ("truncate", "skip"):
        raise ValueError(f"--long_sequences for tagging must be 'truncate' or 'skip', got {long!r}.")
    limit = gen.model.config.max_positions
    out = []
    for n, text in enumerate(lines, start=1):
        words, note = split_words(text, pretokenized), None
        if len(words) > limit:
            note = (f"truncated: {len(words)} words, the model tags at most {limit}; words after {limit} are not "
                    "written" if long == "truncate"
                        else f"skipped: {len(words)} words, the model tags at most {limit}")
            words = words[:limit] if long == "truncate" else []
        out.append(Tagged(n, text, words, [], note))
    todo = [t for t in out if t.words]
    gen.eval()
    for start in tqdm(range(0, len(todo), batch_size), desc="tagging", unit="batch", disable=not progress,
                      file=sys.stderr):
        chunk = todo[start:start + batch_size]
        for t, t_tags in zip(chunk, _tag_batch(gen, tokenizer, [t.words for t in chunk], rerank)):
            t.tags = t_tags
            if len(t.tags) < len(t.words):  # a pretrained encoder's subword limit cut the line shorter
                t.note = t.note or (f"truncated: the encoder reads the first {len(t.tags)} of {len(t.words)} words; "
                                    "the rest are not written")
                t.words = t.words[: len(t.tags)]
    return out


def _tag_batch(gen, tokenizer, words: list[list[str]], rerank=None) -> list[list[str]]:
    """Greedy tags of a batch of word lists (shorter than its words where a pretrained encoder's limit cut it); with
    `rerank` (seqgan.decoding.rerank.Reranker), G + D: the best of greedy + K samples as evaluate.py ranks them."""
    batch = {k: v.to(gen.device) for k, v in collator(tokenizer)([dict(r, index=i) for i, r in enumerate(
        encode_rows([{"words": w} for w in words], tokenizer, gen))]).items()}
    sample = gen.sample(batch, greedy=True)
    tokens = sample.tokens
    if rerank is not None:
        tokens = rerank(gen, batch, tokens)  # (B, T)
        rerank.memo.clear()  # the memo serves λ tuning on a fixed split; a stream of new text would only grow it
    names = gen.model.config.tags
    return [[names[i] for i in tokens[k][sample.mask[k]].tolist()] for k in range(len(words))]


@torch.no_grad()
def tag_word_lists(gen, tokenizer, sentences: list[list[str]], batch_size: int = 64,
                   rerank=None) -> list[list[str]]:
    """One tag per word of each sentence (words may hold spaces: "3 500"). A sentence longer than the model reads is
    tagged in consecutive pieces of max_length words, so every word gets a tag (the raw-text pipeline's need). With
    `rerank`, G + D decoding (_tag_batch)."""
    limit = gen.model.config.max_positions
    pieces = [(i, ws[a:a + limit]) for i, ws in enumerate(sentences) for a in range(0, len(ws), limit)]
    out = [[] for _ in sentences]
    gen.eval()
    for start in range(0, len(pieces), batch_size):
        chunk = pieces[start:start + batch_size]
        for (i, ws), t in zip(chunk, _tag_batch(gen, tokenizer, [ws for _, ws in chunk], rerank)):
            if len(t) < len(ws):
                raise ValueError(f"the tagger's encoder read {len(t)} of a sentence's {len(ws)} words; tag with a "
                                 "from-scratch pos run, or split the text into shorter sentences.")
            out[i] += t
    return out


def encode_rows(rows: list[dict], tokenizer, gen) -> list[dict]:
    """Model inputs for sentences to tag (no gold tags): what `encode` gives, without a datasets round trip."""
    inputs = model_inputs(tokenizer, gen.model.config)
    out = []
    for r in rows:
        x, kept = inputs(r["words"])
        out.append({**x, "labels": [0] * kept, "length": kept})
    return out


def tag_sentences(gen, tokenizer, lines: list[str]) -> list[str]:
    """Tag whitespace-tokenised sentences: ["The dog barks ."] -> ["The/DET dog/NOUN barks/VERB ./PUNCT"]."""
    return [" ".join(f"{w}/{t}" for w, t in zip(x.words, x.tags)) for x in tag_lines(gen, tokenizer, lines,
                                                                                     pretokenized=True)
            if x.words]
