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
      eval_test.json         test metrics of best/ (written by train.py)
      provenance.json        the commit, command, machine and wall time behind them (seqgan/provenance.py)
      eval_<split>_*.json    evaluate.py's results
      checkpoints/           resumable training states (seqgan/training/resume.py)
      .seqgan.lock           while a run writes here: the pid of its main process

A checkpoint folder is built under a temporary name and renamed into place, so `best/` and
`last/` are never half-written. This module owns the layout: `run_dir` says which run folder a path
names, `holds_discriminator` whether it holds a D, `claim_run_dir` protects an earlier run.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from transformers import AutoTokenizer

from seqgan.models.discriminator import SeqGanDiscriminator
from seqgan.models.pretrained import load_pretrained


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


def run_dir(ckpt: str | Path) -> Path:
    """The run folder a checkpoint path names: the parent of best/ or last/, else the folder itself."""
    ckpt = Path(ckpt)
    return ckpt.parent if ckpt.name in ("best", "last") else ckpt


def looks_local(name: str) -> bool:
    """True when `name` can only be a local path, never a Hub id `user/repo`: it starts with `.`, `/` or `~`,
    holds a backslash or not exactly one `/`, or its first component is an existing local folder
    (`runs/typo` when runs/ exists)."""
    return (name.startswith((".", "/", "~")) or "\\" in name or name.count("/") != 1
            or Path(name.split("/")[0]).is_dir())


def resolve_checkpoint(name_or_path: str) -> Path:
    """A checkpoint folder (holding generator/) from a run folder, a checkpoint folder or a Hub id."""
    p = Path(name_or_path).expanduser()
    if p.exists():
        for cand in (p, p / "best", p / "last"):
            if (cand / "generator" / "config.json").is_file():
                return cand
        if (p / "config.json").is_file():  # a bare generator folder (save_pretrained output)
            return p
        raise FileNotFoundError(f"{p} holds no seqgan checkpoint (expected {p}/generator/config.json or "
                                f"{p}/best/generator/config.json). Point --checkpoint at a run or checkpoint folder.")
    if looks_local(name_or_path):
        raise FileNotFoundError(f"{name_or_path}: no such folder (a local path, so the Hub was not asked). Check the "
                                "path, e.g. `ls runs/`.")
    from huggingface_hub import snapshot_download

    try:
        local = Path(snapshot_download(name_or_path))
    except Exception as e:  # network, auth or missing-repo errors all end here; say what to do
        raise FileNotFoundError(f"could not fetch {name_or_path!r} from the Hugging Face Hub ({type(e).__name__}: "
                                f"{e}). Offline? Download it elsewhere and pass the local folder instead.") from e
    return resolve_checkpoint(str(local))


def is_seqgan_checkpoint(name_or_path: str) -> bool:
    """True for a checkpoint written by seqgan (a generator/ folder, or a model config seqgan wrote), False for a
    third-party pretrained model (e.g. a GPT-2 folder), which a task adapts with its own tokenizer."""
    ckpt = resolve_checkpoint(name_or_path)
    if (ckpt / "generator" / "config.json").is_file():
        return True
    config = json.loads((ckpt / "config.json").read_text())
    return "seqgan_generator" in config or str(config.get("model_type", "")).startswith("seqgan")


def holds_discriminator(name: str) -> bool:
    """True for a seqgan GAN run or checkpoint (local, or a Hub repo) with a discriminator/ folder."""
    p = Path(name)
    if p.exists():
        return any((c / "discriminator" / "config.json").is_file() for c in (p, p / "best", p / "last"))
    if looks_local(name):
        return False
    from huggingface_hub import file_exists
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    try:
        return file_exists(name, "discriminator/config.json")
    except (HfHubHTTPError, OfflineModeIsEnabled, OSError):  # offline or unknown repo: AutoConfig decides (and says)
        return False


def read_args(ckpt: Path) -> dict:
    """The run options saved with a checkpoint ({} for a bare generator folder)."""
    return json.loads((ckpt / "args.json").read_text()) if (ckpt / "args.json").is_file() else {}


def generator_dir(ckpt: Path) -> Path:
    return ckpt / "generator" if (ckpt / "generator").is_dir() else ckpt


# What a run leaves in its folder (see the layout above): training's files, then evaluate.py's results, sweeps and
# staged uploads, which describe the same run. --overwrite_output_dir removes exactly these.
RUN_FILES = ("args.json", "metrics.jsonl", "best", "last", "checkpoints", "eval_*.json", "sweep_*", "hub_upload",
             "provenance.json")
LOCK = ".seqgan.lock"


def run_contents(out_dir: str | Path) -> list[Path]:
    return [p for pattern in RUN_FILES for p in sorted(Path(out_dir).glob(pattern))]


def holds_run(out_dir: str | Path) -> bool:
    return bool(run_contents(out_dir))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def claim_run_dir(out_dir: str | Path, overwrite: bool, resuming: bool) -> Path:
    """Take `out_dir` for a training run: refuse a folder that holds another run (unless `overwrite`, which
    removes that run's files, or `resuming` it), and refuse while another live process holds its lock.
    Returns the lock file, which `release_run_dir` removes; a lock left by a killed run is taken over."""
    out = Path(out_dir)
    if holds_run(out) and not (overwrite or resuming):
        raise FileExistsError(f"--output_dir {out} already holds a run (args.json, best/, metrics.jsonl, ...); "
                              "nothing was "
                              "changed. Choose another --output_dir, continue it with --resume_from_checkpoint "
                              "latest, or replace it with --overwrite_output_dir.")
    out.mkdir(parents=True, exist_ok=True)
    lock = out / LOCK
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            text = lock.read_text().strip() if lock.is_file() else ""
            if text.isdigit() and _pid_alive(int(text)):
                raise FileExistsError(f"another training run (pid {text}) is writing to {out} (lock {lock}); wait for "
                                      "it to end or choose another --output_dir.") from None
            lock.unlink(missing_ok=True)  # left by a run that was killed: take it over
            continue
        with os.fdopen(fd, "w") as f:
            f.write(f"{os.getpid()}\n")
        break
    else:
        raise FileExistsError(f"could not take the lock {lock}; remove it if no run is writing to {out}.")
    if overwrite and not resuming:  # the old run's results would otherwise sit beside the new run's
        for target in run_contents(out):
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink()
    return lock


def release_run_dir(lock: Path | None) -> None:
    if lock is not None and lock.is_file() and lock.read_text().strip() == str(os.getpid()):
        lock.unlink()


def load_structured(path: Path, tokenizer):
    """The generator view of a saved structured model (CRF or HMM tagger, bigram model, latent-variable generator), or
    None for other models.

    A plain dict from the saved config's model_type to its wrapper: no registry, nothing to subclass.
    """
    from transformers import AutoConfig

    from seqgan.models.bigram import BigramEnergyModel, BigramGenerator
    from seqgan.models.crf_tagger import CrfTaggerGenerator, SeqGanCrfTagger
    from seqgan.models.energy_tagger import EnergyTaggerGenerator, SeqGanEnergyTagger
    from seqgan.models.hmm import HmmTaggerGenerator, SeqGanHmmTagger
    from seqgan.models.latent import LatentGenerator, SeqGanLatentModel

    wrappers = {"seqgan_crf_tagger": lambda p: CrfTaggerGenerator(load_pretrained(SeqGanCrfTagger, p)),
                "seqgan_energy_tagger": lambda p: EnergyTaggerGenerator(load_pretrained(SeqGanEnergyTagger, p)),
                "seqgan_hmm_tagger": lambda p: HmmTaggerGenerator(load_pretrained(SeqGanHmmTagger, p)),
                "seqgan_latent": lambda p: LatentGenerator(load_pretrained(SeqGanLatentModel, p)),
                "seqgan_bigram": lambda p: BigramGenerator(load_pretrained(BigramEnergyModel, p))}
    model_type = AutoConfig.from_pretrained(path).model_type
    if model_type not in wrappers:
        return None
    gen = wrappers[model_type](path)
    expected = {"seqgan_bigram": lambda c: c.vocab_size, "seqgan_latent": lambda c: c.decoder["vocab_size"]}.get(
        model_type, lambda c: c.word_vocab_size)(gen.model.config)
    if expected != len(tokenizer):
        raise ValueError(f"{path}: the tokenizer has {len(tokenizer)} entries but the model was built for another "
                         "vocabulary; load the tokenizer saved with this checkpoint.")
    return gen


def load_discriminator(name_or_path: str) -> SeqGanDiscriminator:
    """The discriminator of a GAN checkpoint (run folder, checkpoint folder or Hub id)."""
    ckpt = resolve_checkpoint(name_or_path)
    if not (ckpt / "discriminator" / "config.json").is_file():
        raise FileNotFoundError(f"{ckpt} holds no discriminator/ (only --method gan runs save one).")
    return SeqGanDiscriminator.from_pretrained(ckpt / "discriminator", use_safetensors=True)


def load_checkpoint(name_or_path: str, task):
    """(generator, tokenizer, args dict) of a checkpoint for `task` (a tasks.<name> module)."""
    ckpt = resolve_checkpoint(name_or_path)
    gdir = generator_dir(ckpt)
    tokenizer = AutoTokenizer.from_pretrained(gdir)
    gen = load_structured(gdir, tokenizer) or task.load_generator(str(gdir), tokenizer)
    return gen, tokenizer, read_args(ckpt)
