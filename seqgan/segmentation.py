"""Tokenisation and sentence splitting as a label per character, and multiword-token expansion: the structures of
the segment task (tasks/segment.py) and of the raw-text pipeline (tasks/api.py: RawTextTagger).

    labels = char_labels(sentence["text"], sentence["tokens"], where="train.conllu:12")   # one label per character
    rows = windows(read_treebank("train.conllu"), max_chars=400)   # training rows: "words" (characters) and "tags"
    sentences = decode(text, labels)                                # [[{"form", "start", "end", "mwt", ...}], ...]
    expander = MwtExpander.fit([(m["form"], m["words"]) for r in rows for m in r["mwt"]]); expander.expand("Don't")
    lexicon = ChunkLexicon.fit(rows); labels = lexicon.apply(text, labels)   # the treebank's way with chunks it holds

A label sits on every character: `inside` (also every whitespace character), `token` on the last character of a
token, `token+sentence` on the last one of a sentence, and `mwt` / `mwt+sentence` where that token is a multiword
token (EWT's "don't" = "do" + "n't"). Decoding keeps every character: a token is the text from the first
non-whitespace character after the previous token to its end label, so the tokens with the whitespace between them
spell the input exactly.
"""

from __future__ import annotations

import re
from collections import Counter

from seqgan.data import DataError

LABELS = ["inside", "token", "token+sentence", "mwt", "mwt+sentence"]
INNER_SPACE = " \u00a0"  # the whitespace a token may hold inside it (AfriBooms: "3 500")
SPACE = "\u2423"  # "␣": what the model reads for any whitespace character (a word table has no entry for " ")


def model_chars(text: str) -> list[str]:
    """The characters as the model reads them: each whitespace character (space, tab, newline, NBSP) as SPACE."""
    return [SPACE if c.isspace() else c for c in text]


def token_spans(text: str, tokens: list[dict], where: str) -> list[tuple[int, int]]:
    """(start, end) of each token's form in `text`; whitespace inside a form ("3 500") matches any whitespace run."""
    spans, i = [], 0
    for tok in tokens:
        while i < len(text) and text[i].isspace():
            i += 1
        start = i
        for c in tok["form"]:
            if c.isspace():
                while i < len(text) and text[i].isspace():
                    i += 1
                continue
            if i >= len(text) or text[i] != c:
                found = text[i:i + 20] if i < len(text) else "the end of the text"
                raise DataError(where, None,
                                f"token {tok['form']!r} does not match the sentence's # text at character "
                                f"{i} (found {found!r}): the tokens must spell the text; fix the # text comment or "
                                "the FORM column.")
            i += 1
        spans.append((start, i))
    if text[i:].strip():
        raise DataError(where, None, f"the # text goes on after the last token: {text[i:][:40]!r}; add its tokens.")
    return spans


def char_labels(text: str, tokens: list[dict], where: str, sentence_end: bool = True) -> list[str]:
    """One label per character of `text` (a sentence, or a piece of one when `sentence_end` is False)."""
    labels = ["inside"] * len(text)
    spans = token_spans(text, tokens, where)
    for k, ((_, end), tok) in enumerate(zip(spans, tokens)):
        label = "mwt" if len(tok["words"]) > 1 else "token"
        labels[end - 1] = label + ("+sentence" if sentence_end and k == len(tokens) - 1 else "")
    return labels


def _pieces(s: dict, max_chars: int, forms: set[str],
            tails: tuple[str, ...]) -> list[tuple[str, list[str], list[dict]]]:
    """A sentence as (text, labels, tokens) pieces of at most max_chars characters, cut after a token where one ends
    in reach, else inside a token (a 473-character URL in EWT test) with no label at the cut. The tokens kept are
    its multiword ones, those whose form is a multiword token's elsewhere (`forms`), and those that end like a
    multiword token's last word (`tails`: "'s", "n't"): MwtExpander.fit's input."""
    where = f"{s['file']}:{s['line']}"
    text, labels = s["text"], char_labels(s["text"], s["tokens"], where)
    ends = [end for _, end in token_spans(text, s["tokens"], where)]
    mwt = [(end, t) for end, t in zip(ends, s["tokens"]) if len(t["words"]) > 1 or t["form"].lower() in forms
           or _first_suffix(t["form"].lower(), tails) is not None]
    pieces, a = [], 0
    while a < len(text):
        while a < len(text) and text[a].isspace():
            a += 1
        if a == len(text):
            break
        b = max((e for e in ends if a < e <= a + max_chars), default=min(a + max_chars, len(text)))
        toks = [{"form": t["form"], "words": [w for w, _ in t["words"]]} for e, t in mwt if a < e <= b]
        pieces.append((text[a:b], labels[a:b], toks))
        a = b
    return pieces


def _tail(token: dict) -> str | None:
    """The last word of a two-word multiword token that spells its form (do + n't = don't): "n't"; else None."""
    words = [w for w, _ in token["words"]]
    spelled = len(words) == 2 and words[0] and "".join(words).lower() == token["form"].lower()
    return words[1].lower() if spelled else None


def _first_suffix(key: str, suffixes) -> str | None:
    """The first of `suffixes` that `key` ends with and is longer than (the longest, where they come longest first)."""
    return next((x for x in suffixes if key.endswith(x) and len(key) > len(x)), None)


def windows(sentences: list[dict], max_chars: int) -> list[dict]:
    """Training rows: consecutive sentences of a paragraph joined by a space, up to max_chars characters a row (a
    longer sentence is cut between tokens), so the model sees sentence ends with text on both sides.

    Each row: {"sent_id", "words" (model_chars), "tags" (labels), "text", "mwt" ({"form", "words"} of its multiword
    tokens, and of its plain tokens that share a form or a last word's ending with one), "line", "file"}."""
    rows, text, labels, mwt, first = [], "", [], [], None
    forms = {t["form"].lower() for s in sentences for t in s["tokens"] if len(t["words"]) > 1}
    tails = tuple({_tail(t) for s in sentences for t in s["tokens"]} - {None})

    def flush():
        if text:
            rows.append({"sent_id": first["sent_id"], "words": model_chars(text), "tags": list(labels), "text": text,
                         "mwt": list(mwt), "line": first["line"], "file": first["file"]})

    for s in sentences:
        for piece, piece_labels, toks in _pieces(s, max_chars, forms, tails):
            joined = len(text) + 1 + len(piece)
            if text and (s["newpar"] or joined > max_chars):
                flush()
                text, labels, mwt = "", [], []
            if not text:
                first = s
            text, labels = (text + " " + piece, labels + ["inside"] + piece_labels) if text else (piece, piece_labels)
            mwt += toks
    flush()
    return rows


def decode(text: str, labels: list[str], one_sentence: bool = False) -> list[list[dict]]:
    """Sentences of tokens from one label per character. Each token: {"form", "start", "end", "mwt",
    "space_after"}; characters after the last end label become a final token, so nothing is dropped. With
    `one_sentence` (input with gold sentence breaks, one per line) sentence labels are ignored."""
    if len(labels) != len(text):
        raise ValueError(f"{len(labels)} labels for {len(text)} characters.")
    sentences, tokens, start = [], [], None
    for i, (c, label) in enumerate(zip(text, labels)):
        if c.isspace():
            # a line break or tab ends a token: CoNLL-U has no room for it
            if start is not None and c not in INNER_SPACE:
                end = len(text[:i].rstrip())
                tokens.append({"form": text[start:end], "start": start, "end": end, "mwt": False, "space_after": True})
                start = None
            continue  # a token never ends (or starts) on whitespace
        start = i if start is None else start
        if label == "inside" and i < len(text) - 1:
            continue
        end = i + 1
        tokens.append({"form": text[start:end], "start": start, "end": end, "mwt": label.startswith("mwt"),
                       "space_after": end < len(text) and text[end].isspace()})
        start = None
        if label.endswith("+sentence") and not one_sentence:
            sentences.append(tokens)
            tokens = []
    if start is not None:  # trailing characters with no end label: the last token
        tokens.append({"form": text[start:].rstrip(), "start": start, "end": len(text.rstrip()), "mwt": False,
                       "space_after": False})
    if tokens:
        sentences.append(tokens)
    return sentences


class MwtExpander:
    """Multiword tokens to their words, from a treebank's tokens: for each form ever written as a multiword token
    (lower-cased), its most frequent expansion and how often that form was one (`share`: EWT's "don't" 1.0, "its"
    low: mostly the possessive). For a form never seen as one, the longest suffix that ended a seen two-word
    expansion at least twice ("n't", "'s"), and how often a token ending in it was one (`suffix_share`: EWT's "'s"
    0.95, "s" low: plurals).

    A token is expanded where the segmenter labels it a multiword token, or where the training file wrote its form
    as one more often than not (`usually`): a rare label the model may miss, the treebank's habit decides. A form the
    training file never wrote falls back on its suffix's habit: "Nakamura's" is expanded as EWT's "'s" tokens mostly
    are; a form it wrote only as one word ("80's") is not.
    Case follows the input: where the words spell the form (do + n't = don't), the form itself is cut at the
    same places ("Don't" -> "Do", "n't"); otherwise the dictionary's words, capitalised like the form."""

    def __init__(self, table: dict[str, list[str]] | None = None, suffixes: list[str] | None = None,
                 share: dict[str, float] | None = None, suffix_share: dict[str, float] | None = None):
        self.table = dict(table or {})
        self.suffixes = sorted(suffixes or [], key=lambda s: (-len(s), s))
        self.share = dict(share or {})
        self.suffix_share = dict(suffix_share or {})  # absent in checkpoints saved before 0.4: no suffix habit

    @classmethod
    def fit(cls, pairs: list[tuple[str, list[str]]], min_suffix_count: int = 2) -> "MwtExpander":
        """From (form, words) pairs: a treebank's multiword tokens, and its plain tokens of the same forms or
        endings (one word: the form), as the segment task's rows carry them ("mwt")."""
        seen: dict[str, Counter] = {}
        tails = Counter()
        for form, words in pairs:
            seen.setdefault(form.lower(), Counter())[tuple(w.lower() for w in words)] += 1
            if len(words) == 2 and "".join(words).lower() == form.lower() and len(words[0]):
                tails[words[1].lower()] += 1
        suffixes = [s for s, n in tails.items() if n >= min_suffix_count]
        table, share, ending = {}, {}, Counter()
        for f, c in seen.items():
            multi = {w: n for w, n in c.items() if len(w) > 1}
            if multi:
                table[f] = list(min(multi, key=lambda w: (-multi[w], w)))
                share[f] = sum(multi.values()) / sum(c.values())
            for s in suffixes:
                ending[s] += sum(c.values()) if f.endswith(s) and len(f) > len(s) else 0
        suffix_share = {s: tails[s] / ending[s] for s in suffixes}
        expander = cls(table, suffixes, share, suffix_share)
        for f in seen.keys() - share.keys():  # written only as one word, though its ending mostly is a multiword token
            if expander._suffix_usually(f):
                expander.share[f] = 0.0
        return expander

    def to_dict(self) -> dict:
        return {"table": self.table, "suffixes": self.suffixes, "share": self.share, "suffix_share": self.suffix_share}

    @classmethod
    def from_dict(cls, d: dict | None) -> "MwtExpander":
        return cls(**(d or {}))

    def without_suffix_habit(self) -> "MwtExpander":
        """The same expansions with unseen forms left to the model's label, as before the suffix habit: the ablation
        in experiments/segment.sh."""
        return MwtExpander(self.table, self.suffixes, {f: v for f, v in self.share.items() if f in self.table})

    def _suffix(self, key: str) -> str | None:
        return _first_suffix(key, self.suffixes)

    def _suffix_usually(self, key: str) -> bool:
        return self.suffix_share.get(self._suffix(key), 0.0) > 0.5

    def usually(self, form: str) -> bool:
        """The training file wrote this form as a multiword token more often than not; or, never having written it,
        it wrote tokens with its ending (its longest known suffix) as multiword tokens more often than not."""
        key = form.lower()
        return self.share[key] > 0.5 if key in self.share else self._suffix_usually(key)

    def expand(self, form: str) -> list[str]:
        key = form.lower()
        words = self.table.get(key)
        if words is None:
            suffix = self._suffix(key)
            return [form[:-len(suffix)], form[-len(suffix):]] if suffix else [form]
        if "".join(words) == key:  # cut the form itself: keeps its case
            out, at = [], 0
            for w in words:
                out.append(form[at:at + len(w)])
                at += len(w)
            return out
        return [words[0][:1].upper() + words[0][1:] if form[:1].isupper() else words[0]] + words[1:]


def chunks(text: str) -> list[tuple[int, int]]:
    """(start, end) of each maximal run of non-whitespace characters of `text`: the stretches a writer put spaces
    around ("Inc.", "anti-American", "9/11", "don't")."""
    out, start = [], None
    for i, c in enumerate(text):
        if c.isspace():
            if start is not None:
                out.append((start, i))
            start = None
        elif start is None:
            start = i
    if start is not None:
        out.append((start, len(text)))
    return out


HYPHENATED = re.compile(r"([^\W\d_]+)-[^\W\d_]+")  # a word, a hyphen, a word: "anti-American", "so-called"


def _hyphen_codes(chunk: str, first: int) -> dict[str, str]:
    """A hyphenated chunk's two usual segmentations as ChunkLexicon codes: whole, or cut around its hyphen."""
    rest = len(chunk) - first - 1
    return {"whole": "." * (len(chunk) - 1) + "t", "split": "." * (first - 1) + "tt" + "." * (rest - 1) + "t"}


class ChunkLexicon:
    """The training file's own segmentation of every chunk it holds (a run of non-whitespace characters, exact
    case): the labels most of its occurrences had, sentence ends left out. EWT writes "Inc." and "Blvd." as one
    token, "9/11" as one, "so-called" as three, and "80's" as one word: a character model gets a few such habits
    wrong where a lookup does not. Kept where that segmentation is more than half of the chunk's occurrences; an
    unseen chunk, or one the file segmented no one way most of the time, keeps the model's labels.

    An unseen hyphenated chunk (a word, a hyphen, a word) follows its first word's habit (`prefixes`, lower-cased):
    EWT keeps "anti-", "non-", "pre-" and "mid-" words whole (13 of 13 "anti-" chunks) and cuts "well-" and
    "self-" ones in three, so an unseen "anti-smoker" stays whole. A first word seen in at least two hyphenated
    chunks, one way more than half of the time, has a habit; any other is left to the model. Whether the pipeline
    applies the lexicon, and the habit, was decided by EWT dev Words F1 (experiments/segment.sh, the `-nolexicon`
    and `-noprefix` ablations).

    Stored as one letter per character ("." inside, "t" token end, "m" multiword-token end), in the segmenter's
    config.json beside the multiword-token expansions, so a checkpoint applies it on its own."""

    CODE = {"inside": ".", "token": "t", "mwt": "m"}
    LABEL = dict(zip(CODE.values(), CODE.keys()))  # a code letter's label

    def __init__(self, table: dict[str, str] | None = None, prefixes: dict[str, str] | None = None):
        self.table = dict(table or {})
        self.prefixes = dict(prefixes or {})  # first word -> "whole" or "split"; absent: no habit

    @classmethod
    def fit(cls, rows: list[dict], min_prefix_count: int = 2) -> "ChunkLexicon":
        """From labelled text: `windows` rows ({"text", "tags"})."""
        seen: dict[str, Counter] = {}
        for r in rows:
            for a, b in chunks(r["text"]):
                code = "".join(cls.CODE[t.removesuffix("+sentence")] for t in r["tags"][a:b])
                seen.setdefault(r["text"][a:b], Counter())[code] += 1
        table, habits = {}, {}
        for chunk, c in seen.items():
            code, n = min(c.items(), key=lambda kv: (-kv[1], kv[0]))  # ties: the first code in sort order
            if 2 * n > sum(c.values()):
                table[chunk] = code
            m = HYPHENATED.fullmatch(chunk)
            if m:
                ways = {code: way for way, code in _hyphen_codes(chunk, len(m.group(1))).items()}
                habit = habits.setdefault(m.group(1).lower(), Counter())
                for seen_code, count in c.items():
                    habit[ways.get(seen_code, "other")] += count
        prefixes = {}
        for first, habit in habits.items():
            way, n = habit.most_common(1)[0]
            if way != "other" and sum(habit.values()) >= min_prefix_count and 2 * n > sum(habit.values()):
                prefixes[first] = way
        return cls(table, prefixes)

    def to_dict(self) -> dict:
        return {"table": self.table, "prefixes": self.prefixes}

    @classmethod
    def from_dict(cls, d: dict | None) -> "ChunkLexicon":
        return cls(**(d or {}))

    def without_prefixes(self) -> "ChunkLexicon":
        """The same lexicon with no habit for unseen hyphenated chunks: the ablation in experiments/segment.sh."""
        return ChunkLexicon(self.table)

    def code(self, chunk: str) -> str | None:
        """The chunk's labels as a code: its own, or its first word's habit where it is an unseen hyphenated
        chunk; None where the lexicon leaves it to the model."""
        if chunk in self.table:
            return self.table[chunk]
        m = HYPHENATED.fullmatch(chunk)
        way = self.prefixes.get(m.group(1).lower()) if m else None
        return _hyphen_codes(chunk, len(m.group(1)))[way] if way else None

    def apply(self, text: str, labels: list[str]) -> list[str]:
        """`labels` (one per character of `text`) with each known chunk's labels replaced by the lexicon's. A
        sentence end the model put in such a chunk moves to the chunk's last character; a chunk whose lexicon
        labels end inside a token (AfriBooms' "3" of "3 500") keeps the model's labels where the model ends a
        sentence in it."""
        if not self.table and not self.prefixes:
            return labels
        out = list(labels)
        for a, b in chunks(text):
            code = self.code(text[a:b])
            if code is None:
                continue
            new = [self.LABEL[c] for c in code]
            if any(t.endswith("+sentence") for t in labels[a:b]):
                if new[-1] == "inside":
                    continue
                new[-1] += "+sentence"
            out[a:b] = new
        return out
