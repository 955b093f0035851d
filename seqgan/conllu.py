"""The CoNLL-U format (universaldependencies.org/format.html): reading the words and tags of any UD treebank, and
writing tagged sentences back.

    sentences = read_conllu("en_ewt-ud-dev.conllu")          # [{"sent_id", "words", "tags", "line", "file"}, ...]
    sentences = read_conllu(path, problems, tag_column="xpos")   # every error collected, with file:line
    text = to_conllu(tagged)                                 # objects with line, text, note, words, tags

The pos task reads its data with it, scripts/check_data.py checks a user's files with it, and scripts/generate.py
writes its output with it.
"""

from __future__ import annotations

from pathlib import Path

from seqgan.data import DataError, Problems, read_lines

# The 17 universal part-of-speech tags of UD v2.
UPOS_TAGS = ["ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN",
             "PUNCT", "SCONJ", "SYM", "VERB", "X"]
TAG_COLUMNS = {"upos": 3, "xpos": 4}  # --tag_column: index of the tag column in a CoNLL-U word line


def read_conllu(path: str | Path, problems: Problems | None = None, tag_column: str = "upos") -> list[dict]:
    """Sentences of a CoNLL-U file as {"sent_id", "words", "tags", "line"}; raises DataError with file:line.

    Multiword-token ranges (3-4) and empty nodes (8.1) are valid and skipped: they are not tagged words.
    `tag_column` picks UPOS (checked against the 17 universal tags) or the treebank's XPOS tags.
    Collecting `problems`, every error is recorded and only the sentences without one are returned.
    """
    col = TAG_COLUMNS[tag_column]
    path = Path(path)
    problems = problems or Problems()
    raw = path.read_bytes()
    if b"\r" in raw:
        first = next(i for i, ln in enumerate(raw.split(b"\n"), 1) if b"\r" in ln)
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
                sentences.append({"sent_id": sent_id or f"{path.name}:{len(sentences) + 1}", "words": words,
                                  "tags": tags,
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
                problems.add(path, lineno,
                             f"bad ID {wid!r}; expected an integer, a range like 3-4 or a decimal like 8.1.")
                bad = True
            continue
        if not wid.isdigit() or int(wid) != expected:
            problems.add(path, lineno,
                         f"bad ID {wid!r}; expected word ID {expected} (IDs count 1, 2, 3, ... per sentence).")
            bad = True
        if cols[col] == "_":
            other = "xpos" if tag_column == "upos" else "upos"
            problems.add(path, lineno, f"no {tag_column.upper()} tag (column {col + 1} is '_'): this file has no "
                         f"{tag_column.upper()} tags; train on the other column with --tag_column {other}.")
            bad = True
        elif tag_column == "upos" and cols[3] not in UPOS_TAGS:
            problems.add(path, lineno, f"unknown UPOS tag {cols[3]!r}; valid tags are {', '.join(UPOS_TAGS)} "
                         "(language-specific tags belong in column 5: --tag_column xpos).")
            bad = True
        if not cols[1]:
            problems.add(path, lineno, "empty FORM column.")
            bad = True
        words.append(cols[1])
        tags.append(cols[col])
        expected = int(wid) + 1 if wid.isdigit() else expected + 1
    if not sentences and not problems.errors:
        problems.add(path, None, "no sentences found (empty file or only comments).")
    return sentences


def to_conllu(tagged: list, tag_column: str = "upos") -> str:
    """Valid CoNLL-U from tagged input lines (seqgan.tasks.pos.Tagged: line, text, note, words, tags), one block per
    input line with its `# sent_id` (the line number) and `# text`; tags go to the
    UPOS or XPOS column. An empty (or skipped) input line keeps its block as comments only, so blocks stay in step
    with the input lines; readers skip a block without words."""
    out = []
    for t in tagged:
        out += [f"# sent_id = {t.line}", f"# text = {t.text.strip()}"]
        if not t.text.strip():
            out.append("# empty input line")
        if t.note:
            out.append(f"# {t.note}")
        for i, (w, tag) in enumerate(zip(t.words, t.tags), start=1):
            upos, xpos = (tag, "_") if tag_column == "upos" else ("_", tag)
            out.append("\t".join([str(i), w, "_", upos, xpos, "_", "_", "_", "_", "_"]))
        out.append("")
    return "\n".join(out) + "\n"


def read_treebank(path: str | Path) -> list[dict]:
    """Sentences with their tokens, for tokenisation and sentence splitting (the segment task, raw-text scoring).

        [{"sent_id", "text", "tokens": [{"form", "words": [[form, upos], ...], "space_after"}], "newpar", "line",
          "file"}, ...]

    A multiword token (`3-4 don't`) is one token whose words are lines 3 and 4; any other token has one word, its
    own form. `text` is the `# text` comment, or, where a file has none, the tokens joined by their SpaceAfter.
    `newpar` is True where `# newpar` or `# newdoc` opens the sentence (a paragraph break before it). Raises
    DataError with file:line on a malformed line (scripts/check_data.py reports every problem of a file).
    """
    path = Path(path)
    sentences, tokens, meta, pending, start = [], [], {}, 0, None
    lines = read_lines(path)
    for lineno, line in enumerate(lines + [""], start=1):
        if line.startswith("#"):
            key, _, value = line[1:].partition("=")
            key = key.strip()
            if key in ("text", "sent_id"):
                meta[key] = value.strip() if key == "sent_id" else value.lstrip(" ").rstrip("\r")
            elif key.startswith(("newpar", "newdoc")):
                meta["newpar"] = True
            continue
        if not line.strip():
            if tokens:
                text = meta.get("text")
                if text is None:
                    text = "".join(t["form"] + (" " if t["space_after"] else "") for t in tokens).rstrip(" ")
                sentences.append({"sent_id": meta.get("sent_id", f"{path.name}:{len(sentences) + 1}"), "text": text,
                                  "tokens": tokens, "newpar": meta.get("newpar", False), "line": start,
                                  "file": str(path)})
            tokens, meta, pending, start = [], {}, 0, None
            continue
        start = start or lineno
        cols = line.split("\t")
        if len(cols) != 10:
            raise DataError(path, lineno, f"expected 10 tab-separated columns, found {len(cols)}.")
        wid, form, upos, misc = cols[0], cols[1], cols[3], cols[9]
        if "." in wid:
            continue  # an empty node: no surface form
        space_after = "SpaceAfter=No" not in misc.split("|")
        if "-" in wid:
            a, _, b = wid.partition("-")
            if not (a.isdigit() and b.isdigit() and int(b) > int(a)):
                raise DataError(path, lineno, f"bad multiword-token ID {wid!r}; expected a range like 3-4.")
            tokens.append({"form": form, "words": [], "space_after": space_after})
            pending = int(b) - int(a) + 1
        elif pending:
            tokens[-1]["words"].append([form, upos])
            pending -= 1
        else:
            tokens.append({"form": form, "words": [[form, upos]], "space_after": space_after})
    return sentences


def to_conllu_tokens(sentences: list[dict], tree: bool = False) -> str:
    """CoNLL-U for raw text from sentences as read_treebank gives them (their `sent_id`, `text`, `newpar`, and tokens
    whose words carry a UPOS tag): multiword-token ranges, `SpaceAfter=No` on the token that has it.

    HEAD and DEPREL stay `_` (nothing here parses); `tree=True` writes a flat tree instead (word 1 the root, every
    other word its `dep` dependent), because the CoNLL 2018 evaluator refuses a sentence without one: it scores only
    tokens, sentences, words and tags from it."""
    out = []
    for s in sentences:
        if s.get("newpar"):
            out.append("# newpar")
        out += [f"# sent_id = {s['sent_id']}", f"# text = {s['text']}"]
        n = 1
        for tok in s["tokens"]:
            misc = "_" if tok["space_after"] else "SpaceAfter=No"
            if len(tok["words"]) > 1:
                out.append("\t".join([f"{n}-{n + len(tok['words']) - 1}", tok["form"]] + ["_"] * 7 + [misc]))
            for k, (form, upos) in enumerate(tok["words"]):
                head, rel = (("0", "root") if n == 1 else ("1", "dep")) if tree else ("_", "_")
                word_misc = misc if len(tok["words"]) == 1 else "_"
                out.append("\t".join([str(n), form, "_", upos, "_", "_", head, rel, "_", word_misc]))
                n += 1
        out.append("")
    return "\n".join(out) + "\n"


def treebank_text(sentences: list[dict], paragraphs: bool = False) -> str:
    """A treebank's text as raw input: one sentence per line, or (`paragraphs`) its paragraphs separated by a blank
    line, the sentences of each joined by a space (a treebank without `# newpar` is one paragraph)."""
    if not paragraphs:
        return "\n".join(s["text"] for s in sentences) + "\n"
    out = []
    for s in sentences:
        if s["newpar"] and out:
            out.append("\n\n")
        elif out:
            out.append(" ")
        out.append(s["text"])
    return "".join(out) + "\n"
