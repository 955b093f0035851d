"""Exact resume: training-state checkpoints that restore a run bit for bit after a crash or a SIGKILL.

    save_state(out_dir, accelerator, parts, state, keep=2)     # -> out_dir/checkpoints/step-00000120/
    path = find_state(out_dir, "latest")                        # newest complete one (or a given folder)
    state = load_state(path, accelerator, parts)                # restores parts in place, returns the counters

`parts` names what to restore: {"models": {name: module}, "optimizers": {...}, "schedulers": {...},
"generators": {name: torch.Generator}}. A state folder holds

    models/<name>.safetensors           weights (unwrapped modules)
    optimizers/<name>.pt, schedulers/<name>.pt   state dicts, read back with torch.load(weights_only=True)
    rng/<rank>.safetensors + <rank>.json         torch / CUDA / numpy / python RNG and our sampling generators, per
    process
    trainer_state.json                  phase, step counters, data position, best score, log length, ...

Nothing here is unpickled. Each folder is written under a temporary name and renamed when complete,
so `latest` never points at a half-written state, and only the last `keep` are kept. Weights and
optimizer states are the unwrapped, unsharded ones: single-process and DDP runs resume exactly;
FSDP/DeepSpeed runs would need accelerate's own save_state (see README, known limits).
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, load_model, save_file, save_model

from seqgan.checkpoint import write_json_atomic

STATE_DIR = "checkpoints"


def _rng_state(generators: dict) -> tuple[dict, dict]:
    tensors = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"cuda{i}"] = s
    for name, g in generators.items():
        tensors[f"gen.{name}"] = g.get_state().cpu()
    np_state = np.random.get_state()
    tensors["numpy_keys"] = torch.from_numpy(np_state[1].astype(np.int64))
    py = random.getstate()
    meta = {"numpy": [np_state[0], int(np_state[2]), int(np_state[3]), float(np_state[4])],
            "python": [py[0], list(py[1]), py[2]]}
    return tensors, meta


def _set_rng_state(tensors: dict, meta: dict, generators: dict) -> None:
    torch.set_rng_state(tensors["torch"])
    if torch.cuda.is_available():
        torch.cuda.set_rng_state_all([tensors[k] for k in sorted(k for k in tensors if k.startswith("cuda"))])
    for name, g in generators.items():
        g.set_state(tensors[f"gen.{name}"].to(g.get_state().device))
    kind, pos, has_gauss, gauss = meta["numpy"]
    np.random.set_state((kind, tensors["numpy_keys"].numpy().astype(np.uint32), pos, has_gauss, gauss))
    version, internal, gauss_next = meta["python"]
    random.setstate((version, tuple(internal), gauss_next))


def save_state(out_dir: str | Path, accelerator, parts: dict, state: dict, keep: int = 2) -> Path | None:
    """Write a complete training state for `state["global_step"]`; every process takes part."""
    root = Path(out_dir) / STATE_DIR
    name = f"step-{int(state['global_step']):08d}"
    tmp = root / f".{name}.tmp"
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        for sub in ("models", "optimizers", "schedulers", "rng"):
            (tmp / sub).mkdir(parents=True)
        for key, model in parts.get("models", {}).items():  # save_model: tied weights (GPT-2's embeddings) stored once
            save_model(accelerator.unwrap_model(model), str(tmp / "models" / f"{key}.safetensors"))
        for kind in ("optimizers", "schedulers"):
            for key, obj in parts.get(kind, {}).items():
                torch.save(obj.state_dict(), tmp / kind / f"{key}.pt")
        write_json_atomic(tmp / "trainer_state.json", state)
    accelerator.wait_for_everyone()
    tensors, meta = _rng_state(parts.get("generators", {}))  # every process saves its own RNG
    save_file(tensors, tmp / "rng" / f"{accelerator.process_index}.safetensors")
    write_json_atomic(tmp / "rng" / f"{accelerator.process_index}.json", meta)
    accelerator.wait_for_everyone()
    final = root / name
    if accelerator.is_main_process:
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)  # complete: from now on it counts for "latest"
        done = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("step-"))
        for old in done[:-keep] if keep > 0 else []:
            shutil.rmtree(old)
    accelerator.wait_for_everyone()
    return final


def find_state(out_dir: str | Path, which: str) -> Path:
    """`latest` (the newest complete state of out_dir) or an explicit state folder."""
    if which != "latest":
        p = Path(which)
        if not (p / "trainer_state.json").is_file():
            raise FileNotFoundError(f"--resume_from_checkpoint {which}: not a training-state folder (no "
                                    "trainer_state.json); pass 'latest' or a folder under "
                                    f"{Path(out_dir) / STATE_DIR}.")
        return p
    root = Path(out_dir) / STATE_DIR
    done = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("step-")) if root.is_dir() else []
    if not done:
        raise FileNotFoundError(f"--resume_from_checkpoint latest: no training state under {root}; the run saved none "
                                "yet (see --save_every), or --output_dir names another run.")
    return done[-1]


def load_state(path: Path, accelerator, parts: dict) -> dict:
    """Restore the named parts from a state folder; returns its trainer_state.json."""
    for key, model in parts.get("models", {}).items():
        missing, unexpected = load_model(accelerator.unwrap_model(model), str(path / "models" / f"{key}.safetensors"),
                                         strict=False, device=str(accelerator.device))
        if missing or unexpected:
            raise ValueError(f"{path}: the saved {key} does not fit this run's model (missing {sorted(missing)[:3]}, "
                             f"unexpected {sorted(unexpected)[:3]}); resume with the interrupted run's options.")
    for kind in ("optimizers", "schedulers"):
        for key, obj in parts.get(kind, {}).items():
            obj.load_state_dict(torch.load(path / kind / f"{key}.pt", map_location=accelerator.device,
                                           weights_only=True))
    rank = accelerator.process_index
    if not (path / "rng" / f"{rank}.safetensors").is_file():
        raise FileNotFoundError(f"{path} holds no RNG state for process {rank}: it was saved by a run with fewer "
                                "processes; resume with the same number of processes.")
    _set_rng_state(load_file(path / "rng" / f"{rank}.safetensors"),
                   json.loads((path / "rng" / f"{rank}.json").read_text()),
                   parts.get("generators", {}))
    return json.loads((path / "trainer_state.json").read_text())
