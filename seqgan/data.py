"""Finding data files (local folder, $SEQGAN_DATA_DIR, or a verified download cache) and batching them.

    from seqgan.data import resolve_data_file
    path = resolve_data_file("ud_en_ewt/en_ewt-ud-train.conllu", data_dir=None, url=..., sha256=...)
"""

from __future__ import annotations

import hashlib
import os
import random
import sys
import tempfile
import urllib.request
from pathlib import Path

import torch


class DataError(ValueError):
    """Malformed input data; the message starts with `file:line:` so editors can jump to it."""

    def __init__(self, path, line: int | None, message: str):
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")
        self.path, self.line = str(path), line


def cache_dir() -> Path:
    return Path(os.environ.get("SEQGAN_CACHE", Path.home() / ".cache" / "seqgan"))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def resolve_data_file(rel_path: str, data_dir: str | None = None, url: str | None = None,
                      sha256: str | None = None) -> Path:
    """Return a local path for `rel_path` (e.g. "coco/image_coco.txt").

    Looks in `data_dir`, then $SEQGAN_DATA_DIR, then the cache; downloads `url` into the cache
    (checking `sha256`) as a last resort. Raises FileNotFoundError saying how to provide the file.
    """
    roots = [Path(d).expanduser() for d in (data_dir, os.environ.get("SEQGAN_DATA_DIR")) if d]
    for root in roots:
        if (root / rel_path).is_file():
            return root / rel_path
    cached = cache_dir() / rel_path
    if cached.is_file():
        return cached
    looked = ", ".join(str(r / rel_path) for r in roots) or "no --data_dir or $SEQGAN_DATA_DIR given"
    offline = [v for v in ("HF_HUB_OFFLINE",
                           "HF_DATASETS_OFFLINE") if os.environ.get(v, "").lower() in ("1", "true", "yes")]
    if url is None or offline:
        why = f" ({offline[0]}=1: no download tried)" if offline and url else ""
        raise FileNotFoundError(f"{rel_path} not found ({looked}){why}. Copy it to DIR/{rel_path} and pass --data_dir "
                                "DIR (or set SEQGAN_DATA_DIR=DIR).")
    print(f"[seqgan] {rel_path} not found locally ({looked}); downloading {url} into {cached}", file=sys.stderr)
    cached.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cached.parent, prefix=cached.name + ".", suffix=".part")
    os.close(fd)
    try:
        urllib.request.urlretrieve(url, tmp)
        if sha256 is not None and _sha256(Path(tmp)) != sha256:
            raise OSError(f"checksum mismatch for {url} (expected sha256 {sha256})")
        os.replace(tmp, cached)  # atomic: the cache never holds a partial file
    except OSError as e:
        raise FileNotFoundError(
            f"{rel_path} is not available locally ({looked}) and downloading {url} failed: {e}. "
            f"Offline? Copy the file to DIR/{rel_path} and pass --data_dir DIR (or set SEQGAN_DATA_DIR=DIR)."
        ) from e
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return cached


class Problems:
    """Where reading errors go: raised at once (training), or all collected (scripts/check_data.py)."""

    def __init__(self, collect: bool = False):
        self.collect, self.errors, self.warnings = collect, [], []

    def add(self, path, line: int | None, message: str) -> None:
        err = DataError(path, line, message)
        if not self.collect:
            raise err
        self.errors.append(err)

    def warn(self, path, line: int | None, message: str) -> None:
        self.warnings.append(DataError(path, line, message))


def read_lines(path: Path, raw: bytes | None = None, problems: Problems | None = None) -> list[str]:
    """Lines of a UTF-8 file (or of its already-read bytes `raw`), with clear errors for bad encodings.

    A UTF-8 byte-order mark (which Windows editors write) is dropped, as Python's utf-8-sig codec does: it
    is unambiguous, and kept it would glue itself to the first word. A trailing CR is removed. Collecting
    `problems`, an undecodable line is reported and read with replacement characters.
    """
    problems = problems or Problems()
    raw = Path(path).read_bytes() if raw is None else raw
    if raw[:3] == b"\xef\xbb\xbf":
        raw = raw[3:]
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = []
    for i, line in enumerate(lines, start=1):
        try:
            out.append(line.decode("utf-8").rstrip("\r"))
        except UnicodeDecodeError as e:
            problems.add(path, i, f"invalid UTF-8 ({e.reason} at byte {e.start}); re-encode the file as UTF-8.")
            out.append(line.decode("utf-8", errors="replace").rstrip("\r"))
    return out


class LengthGroupedBatchSampler(torch.utils.data.Sampler):
    """Shuffled global batches of similar length, so little compute goes to padding.

    Each epoch: shuffle, cut into windows of 50 batches, sort each window by length, split into
    batches and shuffle the batches. The order depends only on (seed, epoch). The examples left over
    after the full batches form one short batch; fewer than half a batch of them join the batch before
    instead, so no step averages over a handful of examples and every batch splits across processes.
    """

    def __init__(self, lengths: list[int], batch_size: int, seed: int, shuffle: bool = True):
        self.lengths, self.batch_size, self.seed, self.shuffle = list(lengths), batch_size, seed, shuffle
        self.epoch = 0

    def set_epoch(self, epoch: int):
        self.epoch = epoch

    def _merges_remainder(self) -> bool:
        n, bs = len(self.lengths), self.batch_size
        return n > bs and 0 < n % bs < bs / 2

    def __len__(self):
        return (len(self.lengths) + self.batch_size - 1) // self.batch_size - self._merges_remainder()

    def __iter__(self):
        idx = list(range(len(self.lengths)))
        rng = random.Random(self.seed * 1_000_003 + self.epoch)
        if self.shuffle:
            rng.shuffle(idx)
        window = self.batch_size * 50 if self.shuffle else max(len(idx), 1)
        batches = []
        for w in range(0, len(idx), window):
            chunk = sorted(idx[w:w + window], key=lambda i: self.lengths[i]) if self.shuffle else idx[w:w + window]
            batches += [chunk[i:i + self.batch_size] for i in range(0, len(chunk), self.batch_size)]
        if self._merges_remainder():  # only the last window's last batch can be short
            # Pop first: `batches[-2] += batches.pop()` stores into [-2] *after* the pop, i.e. one batch too early.
            short = batches.pop()
            batches[-1] = batches[-1] + short
        if self.shuffle:
            rng.shuffle(batches)
        yield from batches


def process_share(n: int, num_processes: int, process_index: int) -> slice:
    """The contiguous slice of a global batch of n examples that process `process_index` takes: sizes differ
    by at most one, earlier processes take the larger shares."""
    base, extra = divmod(n, num_processes)
    start = process_index * base + min(process_index, extra)
    return slice(start, start + base + (process_index < extra))


class ShardedBatches:
    """Iterates the batch sampler's global batches and yields this process's share of each, collated and on
    `device`. Unlike accelerate's sharding it never drops or repeats examples of a short last batch:
    every process sees exactly its rows, and the losses weight each process by its token count
    (seqgan.parallel.global_mean), so N processes take the steps one process would."""

    def __init__(self, rows: list, batch_sampler, collate, num_processes: int = 1, process_index: int = 0,
                 device=None):
        self.rows, self.batch_sampler, self.collate = rows, batch_sampler, collate
        self.num_processes, self.process_index, self.device = num_processes, process_index, device

    def __len__(self):
        return len(self.batch_sampler)

    def set_epoch(self, epoch: int):
        self.batch_sampler.set_epoch(epoch)

    def __iter__(self):
        for batch in self.batch_sampler:
            mine = batch[process_share(len(batch), self.num_processes, self.process_index)]
            if not mine:
                raise ValueError(f"a batch of {len(batch)} examples cannot be split among {self.num_processes} "
                                 f"processes; raise --batch_size to at least {2 * self.num_processes}.")
            out = self.collate([self.rows[i] for i in mine])
            yield {k: v.to(self.device) if torch.is_tensor(v) and self.device is not None else v
                   for k, v in out.items()}


def pad_sequences(seqs: list[list[int]], pad: int) -> torch.Tensor:
    """Right-pad integer lists into a (B, T) LongTensor."""
    width = max((len(s) for s in seqs), default=0)
    out = torch.full((len(seqs), width), pad, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.as_tensor(s, dtype=torch.long)
    return out


class SequenceCollator:
    """Pads examples with "labels" (token ids) and "index" into labels (B, T), mask (B, T), index (B,)."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, examples: list[dict]) -> dict:
        labels = pad_sequences([e["labels"] for e in examples], self.pad_id)  # (B, T)
        lengths = torch.tensor([len(e["labels"]) for e in examples])
        mask = torch.arange(labels.shape[1])[None, :] < lengths[:, None]  # (B, T)
        return {"labels": labels, "mask": mask, "index": torch.tensor([e["index"] for e in examples])}


def encode_lines(dataset, tokenizer, max_length: int, add_eos: bool, name: str = "dataset", long: str = "error"):
    """Tokenise a "text" column into "labels" (+[EOS]). Lines longer than max_length are refused
    (long="error") or cut to max_length with their [EOS] kept (long="truncate", reported on stderr).

    Rows carry "line" (and "file") columns, so errors point at the source file and line.
    """
    eos = [tokenizer.eos_token_id] if add_eos else []

    def one(batch, indices):
        ids = tokenizer(batch["text"], add_special_tokens=False)["input_ids"]
        labels, cut = [], []
        for k, seq in enumerate(ids):
            too_long = len(seq) + len(eos) > max_length
            if too_long and long == "error":
                where = batch["file"][k] if "file" in batch else name
                line = batch["line"][k] if "line" in batch else indices[k] + 1
                raise DataError(where, line,
                                f"line has {len(seq) + len(eos)} tokens (with EOS), more than --max_length "
                                f"{max_length}; raise --max_length.")
            labels.append(seq[: max_length - len(eos)] + eos)
            cut.append(too_long)
        return {"labels": labels, "index": list(indices), "truncated": cut}

    out = dataset.map(one, batched=True, with_indices=True, desc="tokenising")
    warn_truncated(out, name, max_length)
    return out


def warn_truncated(dataset, name: str, max_length: int) -> None:
    n = sum(dataset["truncated"])
    if n:
        print(f"[seqgan] warning: {n} sequence(s) of {name} longer than --max_length {max_length} were truncated "
              "(--long_sequences error refuses them instead).", file=sys.stderr)
