"""Raw text in, UD out: a segment run (sentences, tokens, multiword tokens) followed by a pos run (UPOS tags), as one
object; scripts/generate.py --segmenter and scripts/evaluate.py --raw_text use it.

    python -c "import seqgan; p = seqgan.load_pipeline('runs/segment/ewt-seg-mle-seed42', \
        'runs/segment/ewt-pos-mle'); print(p.to_conllu(p.tag_text('I don\'t know. Do you?')))"

    pipe = seqgan.load_pipeline("runs/seg", "runs/pos")   # run folders or Hub ids
    pipe = seqgan.load_pipeline("you/seqgan-en-raw-text")  # a segmenter pushed with its tagger
    sentences = pipe.tag_text(text)                         # paragraphs at blank lines; the model splits
    sentences = pipe.tag_text(text, one_sentence_per_line=True)   # each non-empty line is one sentence
    conllu = pipe.to_conllu(sentences, tree=False)          # `# text`, multiword-token ranges, SpaceAfter=No
    pipe = pipe.with_reranker("runs/pos-crf-nll", lam=0.5)  # G + D tagging: the tagger's candidates ranked with a CRF

Every non-whitespace character of the input is in exactly one token, in order; each sentence's `# text` is its
stretch of the input as written (runs of spaces inside it included; a line break inside it becomes a space,
since a comment is one line). Whitespace between sentences and paragraphs is
not kept: CoNLL-U has no place for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from seqgan.checkpoint import load_checkpoint, read_args, resolve_checkpoint
from seqgan.conllu import to_conllu_tokens
from seqgan.decoding.rerank import Reranker
from seqgan.tasks import get_task, task_of

PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")  # a blank (or whitespace-only) line
LINE_BREAK = re.compile("[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")  # what str.splitlines breaks at


def paragraphs(text: str, one_sentence_per_line: bool = False) -> list[str]:
    """The input's units: its non-blank lines (one sentence each), or its paragraphs (text between blank lines).
    CR and CRLF line ends read as LF; a byte-order mark is dropped (it is no character of the text)."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    units = text.split("\n") if one_sentence_per_line else PARAGRAPH_BREAK.split(text)
    return [u for u in units if u.strip()]


@dataclass
class RawTextTagger:
    segmenter: Any             # a segment run's model (TaggerGenerator or CrfTaggerGenerator) and its tokenizer
    segmenter_tokenizer: Any
    tagger: Any                # a pos run's model and tokenizer
    tagger_tokenizer: Any
    batch_size: int = 32
    rerank: Any = None         # G + D tagging: a seqgan.decoding.rerank.Reranker over the tagger's candidates, or None

    def with_reranker(self, name: str, lam: float, num_candidates: int = 8, seed: int = 1234) -> "RawTextTagger":
        """This pipeline with G + D tagging: the tagger's greedy tags and `num_candidates` samples (drawn with
        `seed`, as evaluate.py --rerank_with draws them with the tagger's --data_seed) ranked by log p_G + lam·s_D,
        s_D the score of the pos run `name` (a CRF over the tagger's vocabulary, or a GAN's discriminator); lam
        inf ranks by D alone. Pick lam on dev: evaluate.py --rerank_with D --rerank_lambda 0,0.25,...,inf tunes it
        on the tagger's dev split and records the pick as test/rerank_lambda."""
        device = next(self.tagger.parameters()).device
        rerank = Reranker.from_checkpoint(name, self.tagger_tokenizer, get_task("pos"), device,
                                          num_candidates=num_candidates, lam=lam, seed=seed)
        return replace(self, rerank=rerank)

    def tag_text(self, text: str, one_sentence_per_line: bool = False) -> list[dict]:
        """Sentences as seqgan.conllu.read_treebank gives them: sent_id, text, newpar, tokens with tagged words."""
        seg = get_task("segment")
        units = paragraphs(text, one_sentence_per_line)
        found = seg.segment(self.segmenter, self.segmenter_tokenizer, units, one_sentence_per_line, self.batch_size)
        out = []
        for unit, sentences in zip(units, found):
            for k, tokens in enumerate(seg.expand(self.segmenter, sentences)):
                text = LINE_BREAK.sub(" ", unit[tokens[0]["start"]:tokens[-1]["end"]])  # `# text` is one line
                out.append({"sent_id": str(len(out) + 1), "text": text,
                            "newpar": k == 0 and not one_sentence_per_line,
                            "tokens": [{"form": t["form"], "words": [[w, None] for w in t["words"]],
                                        "space_after": t["space_after"]} for t in tokens]})
        tag_segmented(self.tagger, self.tagger_tokenizer, out, self.batch_size * 2, self.rerank)
        return out

    def to_conllu(self, sentences: list[dict], tree: bool = False) -> str:
        return to_conllu_tokens(sentences, tree)


def tag_segmented(tagger, tokenizer, sentences: list[dict], batch_size: int = 64, rerank=None) -> None:
    """Fill in the UPOS of every word of segmented sentences (read_treebank's layout, tags None or gold), in place,
    by a pos run's model (G + D with `rerank`): the pipeline's second half, also run on another segmenter's output
    (a peer's)."""
    words = [[w for t in s["tokens"] for w, _ in t["words"]] for s in sentences]
    tags = get_task("pos").tag_word_lists(tagger, tokenizer, words, batch_size, rerank)
    for s, sentence_tags in zip(sentences, tags):
        it = iter(sentence_tags)
        for t in s["tokens"]:
            for w in t["words"]:
                w[1] = next(it)


def load_part(name: str, want: str) -> tuple[Any, Any]:
    """(model in eval mode, tokenizer) of a run folder, checkpoint folder or Hub id: a --task `want` run."""
    ckpt = resolve_checkpoint(name)
    args = read_args(ckpt)
    if args["task"] != want:
        raise ValueError(f"{name} is a --task {args['task']} run; the pipeline needs a --task {want} run there.")
    gen, tokenizer, _ = load_checkpoint(str(ckpt), task_of(args, ckpt))
    return gen.eval(), tokenizer


def load_pipeline(segmenter: str, tagger: str | None = None, batch_size: int = 32) -> RawTextTagger:
    """A segment run and a pos run (run folders, checkpoint folders or Hub ids), checked to be what they claim.
    Without `tagger`, the pos run pushed inside the segmenter's repository (push_to_hub.py --tagger: tagger/)."""
    if tagger is None:
        seg_ckpt = resolve_checkpoint(segmenter)
        inside = next((d / "tagger" for d in (seg_ckpt, seg_ckpt.parent) if (d / "tagger" / "args.json").is_file()),
                      None)
        if inside is None:
            raise ValueError(f"{segmenter} holds no tagger/ (a pos run pushed with it); name the pos run as well.")
        tagger = str(inside)
    parts = [*load_part(segmenter, "segment"), *load_part(tagger, "pos")]
    return RawTextTagger(*parts, batch_size=batch_size)
