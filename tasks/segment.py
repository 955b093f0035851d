"""Task `segment`: tokenisation and sentence splitting learned from a treebank, a label per character
(seqgan/segmentation.py), with multiword tokens expanded by the training file's own expansions.

    accelerate launch scripts/train.py --task segment --output_dir runs/segment-mle            # G alone: char tagger
    accelerate launch scripts/train.py --task segment --method crf --output_dir runs/segment-crf   # D alone: char CRF
    accelerate launch scripts/train.py --task segment --train_file af-train.conllu --test_file af-test.conllu

Data: the UD English EWT v2.16 CoNLL-U files (as the pos task), or any treebank with --train_file etc. Each row is a
window of consecutive sentences of one paragraph, at most --max_length characters (seqgan.segmentation.windows).
The models are the pos task's: a character is a "word" (its own table entry and bytes), the BiLSTM reads the window,
and G decodes one label per character (D alone: Viterbi of a linear-chain CRF). Metrics on the windows: token,
sentence and multiword-token F1 (exact character spans), label accuracy; `f1`, their tokens-and-sentences mean,
picks best/. Raw text end to end (segment, expand, tag, CoNLL 2018 scores) is scripts/evaluate.py --raw_text.
"""

from __future__ import annotations

from collections import Counter

import torch
from datasets import Dataset, DatasetDict
from tokenizers import Regex, normalizers

from seqgan.conllu import read_treebank
from seqgan.data import DataError, Problems, resolve_data_file
from seqgan.scoring.metrics import teacher_forced_nll
from seqgan.segmentation import ChunkLexicon, MwtExpander, decode, model_chars, windows
from seqgan.sources import own_splits
from seqgan.tasks import pos
from seqgan.vocab import build_word_tokenizer

# One epoch of EWT is 4,468 windows of up to 400 characters (140 steps of 32): 2,800 steps in all.
DEFAULTS = {
    "all": {
        "max_length": 400,          # characters a window: the model reads them all at once
        # 20, not 5: at 5 epochs (700 steps) EWT seed 42 ended at dev token F1 98.71% with multiword-token F1 just
        # leaving 0; with 20 it passed 99.19% by step 1,260 (docs/raw-text.md, "Training length").
        "num_train_epochs": 20.0,
        "min_steps": 400,           # AfriBooms: 631 windows, 20 steps an epoch -> 20 epochs
        "average_weights": True,
        # An average over ~100 steps: 0.999 (pos's ~1,000) lagged on EWT seed 42, dev token F1 96.8% after 3 of 4
        # epochs with multiword-token F1 still 0: a 4-epoch run kept mostly its early weights.
        "average_decay": 0.99,
        "batch_size": 32,
        "learning_rate": 2e-3,
        "hidden_size": 128,
        "num_layers": 2,
        "dropout": 0.2,
        "sentence_encoder": "lstm",
        "word_dropout": 0.05,       # a character's table entry dropped now and then: its bytes still reach the model
        "char_dim": 16,
        "char_filters": 32,
        "word_min_freq": 1,
    },
    "crf": {},
}
SELECTION = {"all": ("f1", "max")}

CARD = {
    'pipeline_tag': 'token-classification',
    'datasets': ['universal_dependencies'],
    'license': 'cc-by-sa-4.0',
    'task_type': 'token-classification',
    'task_name': 'Tokenisation and sentence splitting',
    'dataset_type': 'universal_dependencies',
    'dataset_name': 'UD English EWT v2.16',
    'dataset_config': 'en_ewt',
    'metrics': {'tokens_f1': 'Token F1 (exact spans)', 'sentences_f1': 'Sentence F1 (exact spans)',
                'mwt_f1': 'Multiword-token F1'},
    'attribution': pos.CARD["attribution"],
    'usage': 'pipe = seqgan.load_pipeline("{repo_id}")  # pushed with its tagger: push_to_hub.py --tagger POS_RUN\n'
             'print(pipe.to_conllu(pipe.tag_text("I don\'t know. Do you?")))\n# on the command line:  seqgan-generate '
             '--segmenter {repo_id} --checkpoint POS_RUN --input_file raw.txt --output_file out.conllu',
}
COMPARE_COLUMNS = [("tokens F1", "tokens_f1", "{:.2%}"), ("sentences F1", "sentences_f1", "{:.2%}"),
                   ("MWT F1", "mwt_f1", "{:.2%}"), ("label acc.", "accuracy", "{:.3%}")]
D_ALONE = "CRF"
PAIRED_TEST = ("token recall Δ points [95% CI], p", "window_tokens", "window_token_errors")
PUBLISHED = []
SWEEP_AXES = []


def read_file(path, problems: Problems | None = None, max_length: int = 400, tag_column: str = "upos") -> list[dict]:
    """The windows of one CoNLL-U file; an error is collected in `problems` (check_data.py) or raised."""
    try:
        return windows(read_treebank(path), max_length)
    except DataError as e:
        if problems is None or not problems.collect:
            raise
        problems.errors.append(e)
        return []


def summarise(rows: list[dict]) -> tuple[list[str], list[tuple[dict, int]]]:
    labels = Counter(t for r in rows for t in r["tags"])
    lengths = [(r, len(r["words"])) for r in rows]
    mwt = Counter(m["form"].lower() for r in rows for m in r["mwt"] if len(m["words"]) > 1)
    return [f"{len(rows)} windows, {sum(n for _, n in lengths)} characters, {sum(mwt.values())} multiword tokens "
            f"({len(mwt)} distinct)",
            "labels: " + ", ".join(f"{t} {c}" for t, c in labels.most_common())], lengths


def load_splits(data_args) -> DatasetDict:
    own = own_splits(data_args, lambda path: read_file(path, None, data_args.max_length), None)
    if own is not None:
        return own
    splits = {}
    for split in ("train", "dev", "test"):
        path = resolve_data_file(f"ud_en_ewt/en_ewt-ud-{split}.conllu", data_args.data_dir,
                                 url=pos.UPSTREAM.format(split), sha256=pos.SHA256[split])
        splits[split] = Dataset.from_list(read_file(path, None, data_args.max_length))
    return DatasetDict(splits)


def build_tokenizer(splits: DatasetDict, model_args, data_args=None):
    """The table of the training split's characters (lower-cased, digits as 0; the byte CNN sees each one raw)."""
    norm = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase(), normalizers.Replace(Regex(r"\d"), "0")])
    return build_word_tokenizer((c for s in splits["train"]["words"] for c in s), min_freq=model_args.word_min_freq,
                                normalizer=norm)


def _with_treebank_habits(gen, train: Dataset | None):
    # The expansions and the chunk lexicon travel in the model's config.json, so a checkpoint segments and expands
    # on its own.
    pairs = [(m["form"], m["words"]) for r in train["mwt"] for m in r] if train is not None else []
    gen.model.config.mwt = MwtExpander.fit(pairs).to_dict()
    rows = train.select_columns(["text", "tags"]).to_list() if train is not None else []
    gen.model.config.chunks = ChunkLexicon.fit(rows).to_dict()
    return gen


def build_generator(tokenizer, model_args, data_args, train: Dataset | None = None):
    return _with_treebank_habits(pos.build_generator(tokenizer, model_args, data_args, train), train)


def build_crf(tokenizer, model_args, data_args, train: Dataset | None = None):
    return _with_treebank_habits(pos.build_crf(tokenizer, model_args, data_args, train), train)


load_generator = pos.load_generator
encode = pos.encode
collator = pos.collator


def pretrained_generator(name: str, model_args, data_args):
    raise ValueError(f"{name} is not a seqgan segment checkpoint; --generator_name_or_path takes a segment run.")


def _spans(text: str, labels: list[str]) -> tuple[set, set, set]:
    sents = decode(text, labels)
    tokens = {(t["start"], t["end"]) for s in sents for t in s}
    mwt = {(t["start"], t["end"]) for s in sents for t in s if t["mwt"]}
    return tokens, {(s[0]["start"], s[-1]["end"]) for s in sents}, mwt


def _f1(gold: int, system: int, correct: int) -> float:
    return 2 * correct / (gold + system) if gold + system else 1.0


def evaluate(gen, tokenizer, split, decoding=None) -> dict:
    """Token, sentence and MWT F1 over the split's windows, from G's greedy (the CRF's Viterbi) labels."""
    dataset = split.dataset
    names = gen.model.config.tags
    rerank = getattr(decoding, "rerank", None)
    preds = pos.predict(gen, split.loader, split.accelerator, rerank)
    if sorted(preds) != list(range(len(dataset))):
        raise RuntimeError(f"evaluation saw {len(preds)} of {len(dataset)} windows")
    counts = Counter()
    window_tokens, window_errors = [], []
    for i, (text, gold) in enumerate(zip(dataset["text"], dataset["tags"])):
        pred = [names[t] for t in preds[i]]
        g, s = _spans(text, gold), _spans(text, pred)
        for name, a, b in zip(("tokens", "sentences", "mwt"), g, s):
            counts[f"{name}_gold"] += len(a)
            counts[f"{name}_system"] += len(b)
            counts[f"{name}_correct"] += len(a & b)
        counts["labels"] += len(gold)
        counts["labels_correct"] += sum(p == q for p, q in zip(pred, gold))
        window_tokens.append(len(g[0]))
        window_errors.append(len(g[0] - s[0]))
    scores = {f"{k}_f1": _f1(counts[f"{k}_gold"], counts[f"{k}_system"], counts[f"{k}_correct"])
              for k in ("tokens", "sentences", "mwt")}
    scores["f1"] = (scores["tokens_f1"] + scores["sentences_f1"]) / 2
    scores["accuracy"] = counts["labels_correct"] / counts["labels"]
    scores["window_tokens"], scores["window_token_errors"] = window_tokens, window_errors
    scores["nll"] = teacher_forced_nll(gen, split.loader, split.accelerator)["nll"]
    if rerank is not None:
        scores.update(rerank.describe())
    return scores


# ----------------------------------------------------------------------------- raw text

@torch.no_grad()
def _labels(gen, tokenizer, chunks: list[str]) -> list[list[str]]:
    rows = [{"words": model_chars(c)} for c in chunks]
    batch = {k: v.to(gen.device) for k, v in pos.collator(tokenizer)(
        [dict(r, index=i) for i, r in enumerate(pos.encode_rows(rows, tokenizer, gen))]).items()}
    out = gen.sample(batch, greedy=True)
    names = gen.model.config.tags
    return [[names[t] for t in out.tokens[k][out.mask[k]].tolist()] for k in range(len(chunks))]


def _accept(chunk_labels: list[str], chunk: str, last: bool) -> int:
    """How many of a chunk's labels to keep: all at the text's end; else up to its last sentence end in the chunk's
    second half, else its last token end there, else the whole chunk (a run with no end in reach is cut after its
    last character). Each window so moves on by at least half its length."""
    if last:
        return len(chunk_labels)
    half = len(chunk_labels) // 2
    for ends in (("+sentence",), ("token", "mwt", "+sentence")):
        k = next((i for i in range(len(chunk_labels) - 1, half - 1, -1) if chunk_labels[i].endswith(ends)
                  and not chunk[i].isspace()), None)
        if k is not None:
            return k + 1
    chunk_labels[-1] = "token"
    return len(chunk_labels)


def segment(gen, tokenizer, paragraphs: list[str], one_sentence: bool = False, batch_size: int = 32) -> list[list]:
    """Each paragraph as sentences of tokens (seqgan.segmentation.decode). A paragraph longer than the model's window
    is read window by window, each starting after the previous one's last sentence end (or token end), so no
    decision is taken without the text that follows it in view. With `one_sentence`, each paragraph is one sentence."""
    limit = gen.model.config.max_positions
    lexicon = ChunkLexicon.from_dict(getattr(gen.model.config, "chunks", None))  # absent: trained before it
    labels = [[] for _ in paragraphs]
    at = [0] * len(paragraphs)
    gen.eval()
    while True:
        todo = [i for i, p in enumerate(paragraphs) if at[i] < len(p)]
        if not todo:
            break
        todo.sort(key=lambda i: min(limit, len(paragraphs[i]) - at[i]))  # similar lengths per batch: little padding
        for start in range(0, len(todo), batch_size):
            ids = todo[start:start + batch_size]
            chunks = [paragraphs[i][at[i]:at[i] + limit] for i in ids]
            for i, chunk, lab in zip(ids, chunks, _labels(gen, tokenizer, chunks)):
                keep = _accept(lab, chunk, at[i] + limit >= len(paragraphs[i]))
                labels[i] += lab[:keep]
                at[i] += keep
    return [decode(p, lexicon.apply(p, lab), one_sentence) if p.strip() else [] for p, lab in zip(paragraphs, labels)]


def expand(gen, sentences: list[list[dict]]) -> list[list[dict]]:
    """Tokens with their words: a token the model labels a multiword token, or whose form the training file mostly
    wrote as one, by the model's expansions (seqgan.segmentation.MwtExpander); any other token is its own word."""
    expander = MwtExpander.from_dict(getattr(gen.model.config, "mwt", None))
    return [[{**t, "words": expander.expand(t["form"]) if t["mwt"] or expander.usually(t["form"]) else [t["form"]]}
             for t in s] for s in sentences]
