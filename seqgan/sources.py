"""Where a run's data comes from: the task's bundled benchmark, the user's own files, or a 🤗 dataset.

    accelerate launch scripts/train.py --task pos --train_file my-train.conllu --test_file my-test.conllu
    accelerate launch scripts/train.py --task text --dataset_name json --data_files train=tr.json,test=te.json

`load_task_splits(task, data_args)` is what scripts call: the task's splits, train cut to --max_train_samples.
A task's `load_splits` asks `own_splits(data_args, read_file, rows_from_dataset)` first and falls back to
its benchmark when that returns None. Both routes give the same rows (dicts with the task's columns plus
"line" and "file", so errors point at the source), so everything after loading is the same code.
`describe(data_args)` says which data a run used, for its model card.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Callable

from datasets import Dataset, DatasetDict

DEV_NAMES = ("validation", "dev", "valid")  # what datasets on the Hub call the dev split
LOADERS = ("json", "csv", "parquet", "text", "arrow")  # datasets' packaged loaders that read --data_files


def carve_dev(rows: list[dict], dev_size: int, seed: int, where: str) -> tuple[list[dict], list[dict]]:
    """A seeded dev split of `dev_size` rows taken out of `rows`: (train, dev), each in file order."""
    if not 0 < dev_size < len(rows):
        raise ValueError(f"--dev_size {dev_size} must be between 1 and {len(rows) - 1} ({where} has {len(rows)} "
                         "examples); lower --dev_size or pass --validation_file.")
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    dev = set(order[:dev_size])
    return [r for i, r in enumerate(rows) if i not in dev], [r for i, r in enumerate(rows) if i in dev]


def load_task_splits(task, data_args) -> DatasetDict:
    """The task's train/dev/test (`task.load_splits`), train cut to its first --max_train_samples examples."""
    splits = task.load_splits(data_args)
    n = data_args.max_train_samples
    if n is not None:
        if n > len(splits["train"]):
            raise ValueError(f"--max_train_samples {n} is more than the {len(splits['train'])} training examples; "
                             "lower it or leave it out.")
        splits["train"] = splits["train"].select(range(n))
    return splits


def own_splits(data_args, read_file: Callable[[str], list[dict]],
               rows_from_dataset: Callable[[Dataset, str], list[dict]] | None) -> DatasetDict | None:
    """train/dev/test from --train_file (+ --validation_file, --test_file) or --dataset_name; None for neither.
    Without a dev file or split, a seeded dev split of --dev_size rows is carved from train."""
    if data_args.train_file:
        for flag in ("train_file", "validation_file", "test_file"):
            path = getattr(data_args, flag)
            if path and not Path(path).is_file():
                raise FileNotFoundError(f"--{flag} {path}: no such file.")
        where = data_args.train_file
        train, test = read_file(data_args.train_file), read_file(data_args.test_file)
        dev = read_file(data_args.validation_file) if data_args.validation_file else None
    elif data_args.dataset_name:
        if rows_from_dataset is None:
            raise ValueError(f"--task {data_args.task} reads files only; use --train_file/--test_file.")
        ds, name = load_dataset_dict(data_args), data_args.dataset_name
        for needed in ("train", "test"):
            if needed not in ds:
                raise ValueError(f"dataset {name} has no {needed!r} split (it has {', '.join(ds)}); name its files "
                                 f"with --data_files train=...,test=..., or use --train_file/--test_file.")
        where = f"{name}[train]"
        train, test = rows_from_dataset(ds["train"], where), rows_from_dataset(ds["test"], f"{name}[test]")
        dev_name = next((n for n in DEV_NAMES if n in ds), None)
        dev = rows_from_dataset(ds[dev_name], f"{name}[{dev_name}]") if dev_name else None
    else:
        return None
    if dev is None:
        train, dev = carve_dev(train, data_args.dev_size, data_args.data_seed, where)
    return DatasetDict({"train": Dataset.from_list(train), "dev": Dataset.from_list(dev),
                        "test": Dataset.from_list(test)})


def training_file_splits(splits) -> tuple[str, ...]:
    """The splits whose rows come from the training file: train, and a dev split carved from it (rows name
    their "file"). They follow --long_sequences as train does; rows of other files must fit."""
    if "train" not in splits or len(splits["train"]) == 0:
        return ("train",) if "train" in splits else ()
    source = splits["train"][0]["file"]
    return tuple(k for k, v in splits.items() if len(v) and v[0]["file"] == source)


def parse_data_files(spec: str) -> dict[str, str]:
    """'train=a.json,test=b.json' -> {"train": "a.json", "test": "b.json"}."""
    out = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        split, eq, path = part.partition("=")
        if not eq or not split or not path:
            raise ValueError(f"--data_files {spec!r}: expected split=path pairs separated by commas, e.g. "
                             "'train=train.json,test=test.json'.")
        if not Path(path).is_file():
            raise FileNotFoundError(f"--data_files: {path} (split {split}) does not exist.")
        out[split] = path
    return out


def load_dataset_dict(data_args) -> DatasetDict:
    """--dataset_name as a DatasetDict: a save_to_disk folder, a loader (json/csv/...) with --data_files, a folder
    of data files, or a Hub id (offline, the error says how to use local data instead)."""
    import datasets

    name, config = data_args.dataset_name, data_args.dataset_config_name
    path = Path(name).expanduser()
    if path.is_dir() and ((path / "dataset_dict.json").is_file() or (path / "state.json").is_file()):
        ds = datasets.load_from_disk(str(path))  # Arrow files written by save_to_disk: no code is run
        return ds if isinstance(ds, DatasetDict) else DatasetDict({"train": ds})
    files = parse_data_files(data_args.data_files) if data_args.data_files else None
    if name in LOADERS and not files:
        raise ValueError(f"--dataset_name {name} reads the files named by --data_files train=...,test=...")
    if path.is_dir() or name in LOADERS:
        return datasets.load_dataset(str(path) if path.is_dir() else name, config, data_files=files)
    looks_like_path = name.startswith((".", "/", "~")) or name.count("/") > 1 or path.suffix
    if looks_like_path:
        raise FileNotFoundError(f"--dataset_name {name}: no such folder (a Hub id is 'user/name').")
    try:
        return datasets.load_dataset(name, config, data_files=files)
    except (ConnectionError, OSError) as e:
        offline = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("HF_DATASETS_OFFLINE")
        raise ConnectionError(f"--dataset_name {name}: could not load it from the Hub ({e.__class__.__name__}: {e})"
                              + (" (offline mode is on)" if offline else "") + ". Offline, save it once with "
                              "Dataset.save_to_disk(DIR) and pass --dataset_name DIR, or use --dataset_name json "
                              "--data_files train=...,test=...") from e


def column(ds: Dataset, name: str, flag: str, where: str) -> list:
    if name not in ds.column_names:
        raise ValueError(f"{where}: no column {name!r} (columns: {', '.join(ds.column_names)}); pass --{flag} NAME.")
    return ds[name]


def label_names(ds: Dataset, name: str) -> list[str] | None:
    """The names of a ClassLabel sequence column (tags stored as ids), or None for a column of strings."""
    feature = ds.features[name]
    inner = getattr(feature, "feature", None)  # List / Sequence of ...
    return list(inner.names) if inner is not None and hasattr(inner, "names") else None


def describe(args: dict, benchmark: dict) -> dict:
    """The model card's data fields for a run's options `args` (its args.json): the task's benchmark entry
    (`CARD`), or the user's files / dataset with their license (--dataset_license, else 'unknown'). A card
    never names data the run did not see."""
    card = _describe(args, benchmark)
    n = args.get("max_train_samples")
    if n:  # a low-resource run saw only part of the training data: the card says so
        if card.get("dataset_name"):
            card["dataset_name"] = f"{card['dataset_name']} (first {n} training examples)"
        note = f"Only the first {n} training examples were used (--max_train_samples)."
        card["attribution"] = f"{card['attribution']} {note}" if card.get("attribution") else note
    return card


def _describe(args: dict, benchmark: dict) -> dict:
    license_ = args.get("dataset_license") or "unknown"
    if args.get("train_file"):
        name = ", ".join(Path(args[f]).name for f in ("train_file", "validation_file", "test_file") if args.get(f))
        return {"datasets": [], "dataset_type": "own-files", "dataset_name": name, "dataset_config": None,
                "license": license_, "attribution": f"Trained on the user's files {name} (license: {license_}). "
                "The terms of this model follow from the data's; check them before sharing."}
    if args.get("dataset_name"):
        name, config = args["dataset_name"], args.get("dataset_config_name")
        hub = name not in LOADERS and not Path(name).expanduser().exists() and name.count("/") <= 1
        shown = name + (f" ({args['data_files']})" if args.get("data_files") else "") + (f" / {config}" if config
                                                                                         else "")
        return {"datasets": [name] if hub else [], "dataset_type": name if hub else "own-files", "dataset_name": shown,
                "dataset_config": config, "license": license_,
                "attribution": f"Trained on the dataset {shown} (license: {license_}). The terms of this model follow "
                               "from the data's; check them before sharing."}
    return {k: benchmark.get(k) for k in ("datasets", "dataset_type", "dataset_name", "dataset_config", "license",
                                          "attribution")}
