"""How text results are measured: seqgan's protocol, or Texygen's (so published COCO rows compare like with like).

    from seqgan.scoring.protocols import PROTOCOLS, texygen_words, texygen_scores
    texygen_words(["a man's dog, running."])            # [['a', 'man', "'s", 'dog', ',', 'running', '.']]
    texygen_scores(hypotheses, references)              # texygen_fast_bleu_5, texygen_fast_self_bleu_5, ...

Protocols (the keys of PROTOCOLS are the choices of --protocol):
- `seqgan`: the vocabulary keeps training words seen at least --word_min_freq times (the rest map to [UNK]); words
  for BLEU are split by `\\w+|[^\\w\\s]+` after lower-casing; every hypothesis is scored against every reference,
  and self-BLEU is leave-one-out over every sample.
- `texygen`: Texygen's (geek-ai/Texygen, utils/text_process.py and utils/metrics/Bleu.py). Words are
  `nltk.word_tokenize`'s; the vocabulary is every word of the training and test files together, so no test word is
  [UNK] and every test caption is scored word by word (Texygen's own `train_real` takes the training file's words
  alone, so its generators never emit a test-only word either); a sample is written as its words joined by spaces and
  re-tokenised before scoring, as Texygen scores its generator file. The headline BLEU-n and self-BLEU-n are the
  setting behind Texygen's published tables (its bleu_eval.py: `get_score(is_fast=False)`, every reference): with it,
  the 10,000 training captions score BLEU-2 0.7403, BLEU-5 0.2180 and self-BLEU-5 0.4157 against the test captions,
  Texygen's published 0.740 / 0.218 / 0.415 (docs/coco-texygen-protocol.md). Its in-training "fast" setting (the
  first 500 references; self-BLEU over the first 500 samples) is reported beside it as texygen_fast_*.

One difference remains, stated rather than hidden: `nltk.word_tokenize` first splits a line into sentences with
the Punkt model, a data download that seqgan neither needs nor fetches; here each line is tokenised whole
(`preserve_line=True`). Only a line holding a sentence break followed by more text (". " inside it) can differ: 13 of
the 20,000 COCO lines (docs/coco-texygen-protocol.md).
"""

from __future__ import annotations

from seqgan.scoring import bleu

PROTOCOLS = {
    "seqgan": "vocabulary: training words seen >= --word_min_freq times, others [UNK]; words split by "
              "\\w+|[^\\w\\s]+; BLEU against every reference, leave-one-out self-BLEU over every sample",
    "texygen": "Texygen's: nltk.word_tokenize words; vocabulary of train + test, no [UNK]; BLEU against every "
               "reference (its published setting), plus its fast setting (500 references, self-BLEU of 500 samples)",
}
TEXYGEN_SAMPLE_SIZE = 500  # Texygen's Bleu.sample_size / SelfBleu.sample_size: its "fast" setting


def texygen_words(lines: list[str]) -> list[list[str]]:
    """nltk.word_tokenize of each line as Texygen applies it (no lower-casing here: its BLEU does none), without
    Punkt's sentence split (see the module docstring)."""
    from nltk.tokenize import NLTKWordTokenizer  # imported here: only the texygen protocol needs nltk

    tokenizer = NLTKWordTokenizer()
    return [tokenizer.tokenize(line) for line in lines]


def texygen_scores(hypotheses: list[list[str]], references: list[list[str]], orders=bleu.ORDERS,
                   sample_size: int = TEXYGEN_SAMPLE_SIZE) -> dict:
    """Texygen's "fast" BLEU (every hypothesis against the first `sample_size` references) and self-BLEU (each of
    the first `sample_size` hypotheses against the others among them), as texygen_fast_bleu_n / _self_bleu_n."""
    out = {f"texygen_fast_bleu_{n}": v for n, v in bleu.test_bleu(hypotheses, references[:sample_size],
                                                                  orders).items()}
    if len(hypotheses) >= 2:
        fast_self = bleu.self_bleu(hypotheses[:sample_size], orders)
        out.update({f"texygen_fast_self_bleu_{n}": v for n, v in fast_self.items()})
    return out
