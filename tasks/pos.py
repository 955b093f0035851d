"""Task `pos`: UPOS tagging as structured output, sentence -> tag sequence (UD English EWT v2.16).

    accelerate launch scripts/train.py --task pos [--data_dir ../shared/data]

Data: `ud_en_ewt/en_ewt-ud-{train,dev,test}.conllu` under --data_dir / $SEQGAN_DATA_DIR, or
downloaded from the UD_English-EWT r2.16 release into ~/.cache/seqgan (sha256-checked).
Words are CoNLL-U lines with an integer ID; multiword-token ranges (3-4) and empty nodes (8.1)
are skipped. Metrics: UPOS accuracy (overall, on words seen / unseen in training), sentence exact
match, per-tag precision/recall/F1, and the share of predicted tag bigrams never seen in training.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import torch
from datasets import Dataset, DatasetDict
from tokenizers import Regex, normalizers

from seqgan.crf_tagger import CrfTaggerGenerator, SeqGanCrfTagger, SeqGanCrfTaggerConfig
from seqgan.data import DataError, Problems, pad_sequences, read_lines, resolve_data_file, warn_truncated
from seqgan.pretrained import load_pretrained
from seqgan.metrics import tag_bigrams, tagging_scores, teacher_forced_nll
from seqgan.tagger import UPOS_TAGS, SeqGanTagger, SeqGanTaggerConfig, TaggerGenerator, word_bytes
from seqgan.vocab import build_word_tokenizer, encode_words

DEFAULTS = {
    "max_length": 256,
    "num_epochs": 6.0,
    "batch_size": 32,
    "learning_rate": 1e-3,
    "hidden_size": 256,
    "num_layers": 2,
    "dropout": 0.2,
}
SELECTION = ("accuracy", "max")  # dev metric that picks the best checkpoint
# --method crf: the CRF baseline with the MLE tagger's encoder and settings, two epochs more (the
# perceptron and hinge losses learn only from sentences the model still gets wrong).
CRF_DEFAULTS = {"num_epochs": 8.0}
# --method gan: fine-tune the MLE tagger against D(sentence, tags) with a small step and an MLE term,
# so the adversarial signal adjusts G's tag sequences without undoing what likelihood taught it.
GAN_DEFAULTS = {"batch_size": 32, "adv_steps": 200, "d_pretrain_steps": 200, "g_learning_rate": 2e-5,
                "mle_weight": 1.0, "gan_eval_every": 50, "samples_per_input": 4}


# scripts/train.py: rows from the training file; they follow --long_sequences (other splits refuse long ones).
TRAINING_FILE_SPLITS = ("train",)
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
    'metrics': {'accuracy': 'UPOS accuracy', 'exact_match': 'Sentence exact match', 'unknown_word_accuracy': 'Accuracy on words unseen in training'},
    'attribution': 'Trained on Universal Dependencies English EWT v2.16 (annotations © Stanford University, text from the LDC English Web Treebank), licensed CC BY-SA 4.0: https://github.com/UniversalDependencies/UD_English-EWT. As a work trained on it, this model is shared under the same terms (CC BY-SA 4.0); attribute the treebank when you reuse it.',
    'usage': 'print(get_task("pos").tag_sentences(gen, tokenizer, ["The dog barks ."]))\n# or on the command line:  python scripts/generate.py --checkpoint {repo_id} --sentence "The dog barks ."',
}
# scripts/compare.py: columns (header, metric, format), and what "D alone" is for this task.
COMPARE_COLUMNS = [("UPOS acc.", "accuracy", "{:.2%}"), ("unknown words", "unknown_word_accuracy", "{:.2%}"),
                   ("sentence exact", "exact_match", "{:.2%}"), ("unseen tag bigrams", "unseen_bigram_rate", "{:.3%}")]
D_ALONE = "CRF"
# Temperature sweeps (scripts/evaluate.py --temperatures): plot panels (x, y, x label, y label).
SWEEP_AXES = []  # pos decodes greedily: no temperature sweeps

UPSTREAM = "https://raw.githubusercontent.com/UniversalDependencies/UD_English-EWT/r2.16/en_ewt-ud-{}.conllu"
SHA256 = {
    "train": "3fb78e2b55482c8ee00caa653af436c88c9e5bc9a73ce26e4ae3ddc79d2b7e7b",
    "dev": "531a54ff90d6ab12201c5a50c3e78e6ddac4de69abc4bce5d275d3cd29efe2b6",
    "test": "e266e515a0a7547657ed3d90d9ba46487d6bd251f27ad4269d4e8a427c8555cd",
}


def read_conllu(path: str | Path, problems: Problems | None = None) -> list[dict]:
    """Sentences of a CoNLL-U file as {"sent_id", "words", "tags", "line"}; raises DataError with file:line.

    Multiword-token ranges (3-4) and empty nodes (8.1) are valid and skipped: they are not tagged words.
    Collecting `problems`, every error is recorded and only the sentences without one are returned.
    """
    path = Path(path)
    problems = problems or Problems()
    raw = path.read_bytes()
    if b"\r" in raw:
        first = next(i for i, l in enumerate(raw.split(b"\n"), 1) if b"\r" in l)
        problems.add(path, first, "CRLF (or CR) line ends; CoNLL-U requires LF, e.g. `dos2unix FILE`.")
    sentences, words, tags, sent_id, expected, start, bad = [], [], [], None, 1, None, False
    lines = read_lines(path, raw, problems)
    for lineno, line in enumerate(lines + [""], start=1):
        if line.startswith("#"):
            if line.startswith("# sent_id"):
                sent_id = line.split("=", 1)[-1].strip()
            continue
        if not line.strip():
            if words and not bad:
                sentences.append({"sent_id": sent_id or f"{path.name}:{len(sentences) + 1}", "words": words, "tags": tags,
                                  "line": start, "file": str(path)})
            words, tags, sent_id, expected, start, bad = [], [], None, 1, None, False
            continue
        start = start or lineno
        cols = line.split("\t")
        if len(cols) != 10:
            problems.add(path, lineno, f"expected 10 tab-separated columns, found {len(cols)}.")
            bad = True
            expected = int(cols[0]) + 1 if cols[0].isdigit() else expected + 1  # keep checking the IDs that follow
            continue
        wid = cols[0]
        if "-" in wid or "." in wid:  # multiword-token range or empty node: not a tagged word
            a, _, b = wid.replace(".", "-").partition("-")
            if not (a.isdigit() and b.isdigit()):
                problems.add(path, lineno, f"bad ID {wid!r}; expected an integer, a range like 3-4 or a decimal like 8.1.")
                bad = True
            continue
        if not wid.isdigit() or int(wid) != expected:
            problems.add(path, lineno, f"bad ID {wid!r}; expected word ID {expected} (IDs count 1, 2, 3, ... per sentence).")
            bad = True
        if cols[3] not in UPOS_TAGS:
            problems.add(path, lineno, f"unknown UPOS tag {cols[3]!r}; valid tags are {', '.join(UPOS_TAGS)}.")
            bad = True
        if not cols[1]:
            problems.add(path, lineno, "empty FORM column.")
            bad = True
        words.append(cols[1])
        tags.append(cols[3])
        expected = int(wid) + 1 if wid.isdigit() else expected + 1
    if not sentences and not problems.errors:
        problems.add(path, None, "no sentences found (empty file or only comments).")
    return sentences


def read_file(path, problems: Problems, max_length: int) -> list[dict]:
    return read_conllu(path, problems)


def summarise(rows: list[dict]) -> tuple[list[str], list[tuple[dict, int]]]:
    """check_data.py's summary and each sentence's length in words (what --max_length counts)."""
    tags = Counter(t for r in rows for t in r["tags"])
    lengths = [(r, len(r["words"])) for r in rows]
    return [f"{len(rows)} sentences, {sum(n for _, n in lengths)} words, longest {max(n for _, n in lengths)} words",
            "tags: " + ", ".join(f"{t} {c}" for t, c in tags.most_common())], lengths


def load_splits(data_args) -> DatasetDict:
    splits = {}
    for split in ("train", "dev", "test"):
        path = resolve_data_file(f"ud_en_ewt/en_ewt-ud-{split}.conllu", data_args.data_dir,
                                 url=UPSTREAM.format(split), sha256=SHA256[split])
        splits[split] = Dataset.from_list(read_conllu(path))
    return DatasetDict(splits)


def build_tokenizer(train: Dataset, model_args):
    # Lower-case and map digits to 0 for the word table; the byte CNN still sees the raw form.
    norm = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase(), normalizers.Replace(Regex(r"\d"), "0")])
    return build_word_tokenizer((w for s in train["words"] for w in s), min_freq=model_args.word_min_freq, normalizer=norm)


def build_generator(tokenizer, model_args, data_args) -> TaggerGenerator:
    return TaggerGenerator(SeqGanTagger(tagger_config(tokenizer, model_args, data_args)))


def tagger_config(tokenizer, model_args, data_args) -> SeqGanTaggerConfig:
    return SeqGanTaggerConfig(
        word_vocab_size=len(tokenizer), hidden_size=model_args.hidden_size, num_layers=model_args.num_layers,
        num_heads=model_args.num_heads, ffn_size=model_args.ffn_size, dropout=model_args.dropout,
        decoder_layers=model_args.decoder_layers, char_dim=model_args.char_dim, char_filters=model_args.char_filters,
        max_positions=data_args.max_length, prev_tag_dropout=model_args.prev_tag_dropout,
        word_dropout=model_args.word_dropout, word_unk_id=tokenizer.unk_token_id,
    )


def build_crf(tokenizer, model_args, data_args) -> CrfTaggerGenerator:
    """The discriminator-only baseline: a linear-chain CRF over the same kind of encoder as the generator's."""
    cfg = SeqGanCrfTaggerConfig(**tagger_config(tokenizer, model_args, data_args).to_dict())
    return CrfTaggerGenerator(SeqGanCrfTagger(cfg))


def load_generator(path: str, tokenizer) -> TaggerGenerator:
    gen = TaggerGenerator(load_pretrained(SeqGanTagger, path))
    if gen.model.config.word_vocab_size != len(tokenizer):
        raise ValueError(f"{path}: the tokenizer has {len(tokenizer)} words but the model's word table has "
                         f"{gen.model.config.word_vocab_size}; load the tokenizer saved with this checkpoint.")
    return gen


def encode(dataset: Dataset, tokenizer, gen, long: str = "error") -> Dataset:
    """Add model inputs: word ids, byte ids, tag ids and length. Sentences longer than the model's
    max_length are refused (long="error") or cut to it (long="truncate", reported on stderr)."""
    cfg = gen.model.config
    tag_id = {t: i for i, t in enumerate(cfg.tags)}

    def one(ex, index):
        words, tags = ex["words"], ex["tags"]
        too_long = len(words) > cfg.max_positions
        if too_long and long == "error":
            where = f"{ex['file']}:{ex['line']}" if ex.get("file") else ex["sent_id"]
            raise DataError(where, None, f"sentence {ex['sent_id']} has {len(words)} words, more than --max_length "
                            f"{cfg.max_positions}; raise --max_length (or --long_sequences truncate, for training data).")
        words, tags = words[: cfg.max_positions], tags[: cfg.max_positions]
        return {
            "word_ids": encode_words(tokenizer, words),
            "char_ids": [word_bytes(w, cfg.max_word_bytes) for w in words],
            "labels": [tag_id[t] for t in tags],
            "length": len(words),
            "index": index,
            "truncated": too_long,
        }

    out = dataset.map(one, with_indices=True, desc="encoding pos")
    warn_truncated(out, "pos data", cfg.max_positions)
    return out


def collator(tokenizer):
    return collate


def collate(examples: list[dict]) -> dict:
    words = pad_sequences([e["word_ids"] for e in examples], 0)  # (B, T)
    B, T = words.shape
    C = max(6, max(len(c) for e in examples for c in e["char_ids"]))  # >= the widest CNN kernel
    chars = torch.zeros(B, T, C, dtype=torch.long)  # (B, T, C)
    for i, e in enumerate(examples):
        for j, c in enumerate(e["char_ids"]):
            chars[i, j, : len(c)] = torch.as_tensor(c)
    mask = torch.arange(T)[None, :] < torch.tensor([e["length"] for e in examples])[:, None]  # (B, T)
    return {"word_ids": words, "char_ids": chars, "labels": pad_sequences([e["labels"] for e in examples], 0),
            "mask": mask, "index": torch.tensor([e["index"] for e in examples])}


@torch.no_grad()
def predict(gen: TaggerGenerator, loader, accelerator, rerank=None) -> dict[int, list[int]]:
    """Greedy (or, for a CRF, Viterbi) tag ids per example index, gathered across processes; with
    `rerank` (seqgan.rerank.Reranker) the best of greedy + K samples under a discriminator's score."""
    gen.eval()
    preds = {}
    for batch in loader:
        out = gen.sample(batch, greedy=True)
        tokens = out.tokens if rerank is None else rerank(gen, batch, out.tokens)
        rows = [(int(i), tokens[k][out.mask[k]].tolist()) for k, i in enumerate(batch["index"])]
        for i, tags in accelerator.gather_for_metrics(rows, use_gather_object=True):
            preds[i] = tags
    return preds


def evaluate(gen, loader, accelerator, dataset: Dataset, splits: DatasetDict, data_args, tokenizer,
             sample_seed: int, temperature: float = 1.0, greedy: bool = False, rerank=None) -> dict:
    """pos always decodes greedily (Viterbi for the CRF); `greedy` is accepted for a uniform signature."""
    if temperature != 1.0:
        raise ValueError("pos is evaluated by greedy decoding; temperatures apply to the text and oracle tasks.")
    tags = gen.model.config.tags
    preds = predict(gen, loader, accelerator, rerank)
    if sorted(preds) != list(range(len(dataset))):
        raise RuntimeError(f"evaluation saw {len(preds)} of {len(dataset)} sentences")
    pred = [[tags[t] for t in preds[i]] for i in range(len(dataset))]
    train_words = {w for s in splits["train"]["words"] for w in s}
    train_bigrams = {b for s in splits["train"]["tags"] for b in tag_bigrams(s)}
    scores = tagging_scores(pred, dataset["tags"], dataset["words"], train_words, train_bigrams, tagset=list(tags))
    scores["nll"] = teacher_forced_nll(gen, loader, accelerator)["nll"]
    scores["sample_seed"] = sample_seed  # pos decodes greedily; recorded like every task's, and used by reranking
    if rerank is not None:
        scores.update({"rerank_with": rerank.source, "num_candidates": rerank.num_candidates, "rerank_weight": rerank.weight,
                       "rerank_seed": rerank.seed})
    return scores


@torch.no_grad()
def tag_sentences(gen, tokenizer, lines: list[str]) -> list[str]:
    """Tag whitespace-tokenised sentences: ["The dog barks ."] -> ["The/DET dog/NOUN barks/VERB ./PUNCT"]."""
    rows = [{"words": l.split(), "tags": ["X"] * len(l.split()), "sent_id": f"input:{i + 1}", "line": i + 1, "file": "input"}
            for i, l in enumerate(lines) if l.strip()]
    if not rows:
        return []
    batch = collate(list(encode(Dataset.from_list(rows), tokenizer, gen)))
    batch = {k: v.to(gen.device) for k, v in batch.items()}
    out = gen.eval().sample(batch, greedy=True)
    tags = gen.model.config.tags
    return [" ".join(f"{w}/{tags[t]}" for w, t in zip(r["words"], out.tokens[i][out.mask[i]].tolist()))
            for i, r in enumerate(rows)]
