"""Checkpoints: atomic writes and loading from a local folder or a Hub repository.

Layout of a run folder (`--output_dir`):

    runs/pos-mle/
      best/                  checkpoint with the best dev score
        generator/           model (config.json + model.safetensors) and its tokenizer files
        discriminator/       GAN runs: D (config.json + model.safetensors)
        args.json            every option of the run
        trainer_state.json   step, epoch and the dev metrics of this checkpoint
      last/                  same layout, the final state
      metrics.jsonl          one JSON record per log/eval event
      eval_test.json         test metrics of best/ (written by train.py and evaluate.py)

A checkpoint folder is built under a temporary name and renamed into place, so `best/` and
`last/` are never half-written.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from transformers import AutoTokenizer


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_json_atomic(path: str | Path, obj) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def save_checkpoint(path: str | Path, gen, tokenizer, args: dict, state: dict, disc=None) -> Path:
    """Write generator + tokenizer (+ discriminator) + args + state to `path` atomically (replacing an older one)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.tmp-"))
    try:
        gen.save_pretrained(tmp / "generator")
        tokenizer.save_pretrained(tmp / "generator")
        if disc is not None:
            disc.save_pretrained(tmp / "discriminator")
        write_json_atomic(tmp / "args.json", args)
        write_json_atomic(tmp / "trainer_state.json", state)
        old = None
        if path.exists():
            old = path.parent / f".{path.name}.old-{os.getpid()}"
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return path


def resolve_checkpoint(name_or_path: str) -> Path:
    """A checkpoint folder (holding generator/) from a run folder, a checkpoint folder or a Hub id."""
    p = Path(name_or_path)
    if p.exists():
        for cand in (p, p / "best", p / "last"):
            if (cand / "generator" / "config.json").is_file():
                return cand
        if (p / "config.json").is_file():  # a bare generator folder (save_pretrained output)
            return p
        raise FileNotFoundError(f"{p} holds no seqgan checkpoint (expected {p}/generator/config.json or "
                                f"{p}/best/generator/config.json). Point --checkpoint at a run or checkpoint folder.")
    if name_or_path.count("/") != 1 or name_or_path.startswith((".", "/")):
        raise FileNotFoundError(f"{name_or_path}: no such local folder, and not a Hub id of the form user/repo.")
    from huggingface_hub import snapshot_download

    try:
        local = Path(snapshot_download(name_or_path))
    except Exception as e:  # network, auth or missing-repo errors all end here; say what to do
        raise FileNotFoundError(f"could not fetch {name_or_path!r} from the Hugging Face Hub ({type(e).__name__}: {e}). "
                                "Offline? Download it elsewhere and pass the local folder instead.") from e
    return resolve_checkpoint(str(local))


def read_args(ckpt: Path) -> dict:
    """The run options saved with a checkpoint ({} for a bare generator folder)."""
    return json.loads((ckpt / "args.json").read_text()) if (ckpt / "args.json").is_file() else {}


def generator_dir(ckpt: Path) -> Path:
    return ckpt / "generator" if (ckpt / "generator").is_dir() else ckpt


def load_discriminator(name_or_path: str):
    """The discriminator of a GAN checkpoint (run folder, checkpoint folder or Hub id)."""
    from seqgan.discriminator import SeqGanDiscriminator

    ckpt = resolve_checkpoint(name_or_path)
    if not (ckpt / "discriminator" / "config.json").is_file():
        raise FileNotFoundError(f"{ckpt} holds no discriminator/ (only --method gan runs save one).")
    return SeqGanDiscriminator.from_pretrained(ckpt / "discriminator")


def load_structured(path: Path, tokenizer):
    """The generator view of a saved structured model (CRF tagger, bigram model), or None for other models.

    A plain dict from the saved config's model_type to its wrapper: no registry, nothing to subclass.
    """
    from transformers import AutoConfig

    from seqgan.bigram import BigramEnergyModel, BigramGenerator
    from seqgan.crf_tagger import CrfTaggerGenerator, SeqGanCrfTagger

    wrappers = {"seqgan_crf_tagger": lambda p: CrfTaggerGenerator(SeqGanCrfTagger.from_pretrained(p)),
                "seqgan_bigram": lambda p: BigramGenerator(BigramEnergyModel.from_pretrained(p))}
    model_type = AutoConfig.from_pretrained(path).model_type
    if model_type not in wrappers:
        return None
    gen = wrappers[model_type](path)
    expected = gen.model.config.vocab_size if model_type == "seqgan_bigram" else gen.model.config.word_vocab_size
    if expected != len(tokenizer):
        raise ValueError(f"{path}: the tokenizer has {len(tokenizer)} entries but the model was built for another "
                         "vocabulary; load the tokenizer saved with this checkpoint.")
    return gen


def load_checkpoint(name_or_path: str, task):
    """(generator, tokenizer, args dict) of a checkpoint for `task` (a tasks.<name> module)."""
    ckpt = resolve_checkpoint(name_or_path)
    gdir = generator_dir(ckpt)
    tokenizer = AutoTokenizer.from_pretrained(gdir)
    gen = load_structured(gdir, tokenizer) or task.load_generator(str(gdir), tokenizer)
    return gen, tokenizer, read_args(ckpt)
