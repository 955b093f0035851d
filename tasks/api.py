"""seqgan.load: a trained run of any method, from a run folder, a checkpoint folder or a Hub id, as one ready object.

    python -c "import seqgan; print(seqgan.load('runs/pos-mle').tag(['The dog barks .']))"

    import seqgan
    tagger = seqgan.load("runs/pos-mle")          # pos: mle, gan, crf or hmm; or "you/seqgan-pos-tagger"
    tagger.tag(["The dog barks."])    # [[("The", "DET"), ("dog", "NOUN"), ("barks", "VERB"), (".", "PUNCT")]]
    lm = seqgan.load("runs/text-mle")             # text or oracle: any method
    lm.sample(3, temperature=0.8, seed=0)         # three sentences
    lm.score(["a man rides a horse ."])           # log-likelihood in nats, one per text

It sits above the library with the tasks it dispatches to (the library never imports a task); `seqgan.load` is this
module's `load`, imported on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from datasets import Dataset

from seqgan.checkpoint import load_checkpoint, read_args, resolve_checkpoint
from seqgan.data import DataError
from seqgan.tasks import get_task, task_of


@dataclass
class Model:
    """A loaded run: its generator view (what scripts/generate.py and evaluate.py use) and what it was trained as."""
    task: str        # pos, text or oracle
    method: str      # mle, gan, crf, hmm, random-code, ae, vae or latent-gan
    generator: Any   # the run's G (for crf and hmm, the structured model behind the same interface)
    tokenizer: Any
    args: dict       # the run's options (its args.json)

    def _need(self, tasks: tuple[str, ...], what: str, instead: str) -> None:
        if self.task not in tasks:
            raise ValueError(f"{what} is for {' and '.join(tasks)} runs; this is a --task {self.task} run: {instead}.")

    def tag(self, sentences: list[str] | list[list[str]], batch_size: int = 64) -> list[list[tuple[str, str]]]:
        """Tag sentences, each a string (split into words as scripts/generate.py does) or a list of words: one list
        of (word, tag) per sentence. A sentence longer than the model tags is an error, not cut silently."""
        self._need(("pos",), "tag()", "use sample() or score()")
        pos = get_task("pos")
        words = [pos.split_words(s, pretokenized=False) if isinstance(s, str) else list(s) for s in sentences]
        for i, ws in enumerate(words):
            if any(not w or w != "".join(w.split()) for w in ws):
                raise ValueError(f"sentence {i}: a word is empty or holds whitespace ({ws}); pass each word alone.")
        tagged = pos.tag_lines(self.generator, self.tokenizer, [" ".join(ws) for ws in words], batch_size=batch_size,
                               pretokenized=True, long="skip")
        for t in tagged:
            if t.note:
                raise ValueError(f"sentence {t.line - 1} (0-based): {t.note}; split it into shorter sentences.")
        return [list(zip(t.words, t.tags)) for t in tagged]

    def sample(self, n: int, temperature: float = 1.0, seed: int = 0, batch_size: int = 500) -> list[str]:
        """n seeded samples from G as text (oracle: token ids separated by spaces)."""
        self._need(("text", "oracle"), "sample()", "use tag()")
        return get_task(self.task).sample_texts(self.generator, self.tokenizer, n, seed, batch_size=batch_size,
                                                temperature=temperature)

    @torch.no_grad()
    def score(self, texts: list[str], batch_size: int = 64) -> list[float]:
        """log p(text) in nats under G, one per text, counting the end of the sentence (text; the oracle's sequences
        have a fixed length and no end token). For a latent-variable run (random-code, ae, vae, latent-gan) it is the
        importance-weighted bound its NLL figures report; a text longer than the model's max_length is an error."""
        self._need(("text", "oracle"), "score()", "a tagger's output is scored by scripts/evaluate.py")
        task = get_task(self.task)
        try:
            rows = task.encode(Dataset.from_dict({"text": list(texts)}), self.tokenizer, self.generator).to_list()
        except DataError as e:  # it names a line and --max_length: say it in this call's terms
            if e.line is None:
                raise
            raise ValueError(f"texts[{e.line - 1}] has more tokens than this model's max_length "
                             f"({self.generator.max_length}, with the end token): it cannot be scored whole.") from e
        collate, out = task.collator(self.tokenizer), []
        self.generator.eval()
        for start in range(0, len(rows), batch_size):
            batch = {k: v.to(self.generator.device) for k, v in collate(rows[start:start + batch_size]).items()}
            out += self.generator.token_logprobs(batch).sum(1).tolist()  # (B, T) -> (B,): zero at padding
        return out


def load(name_or_path: str) -> Model:
    """The run at `name_or_path` (a run folder, its best/ or last/, or a Hub id), ready to tag, sample or score."""
    ckpt = resolve_checkpoint(name_or_path)
    gen, tokenizer, args = load_checkpoint(str(ckpt), task_of(read_args(ckpt), ckpt))
    return Model(args["task"], args.get("method", "mle"), gen, tokenizer, args)
