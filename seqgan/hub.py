"""Sharing runs on the Hugging Face Hub: the folder to upload, its model card, and the push itself.

    card = get_task("pos").CARD                        # the task's model-card text (seqgan.tasks)
    folder = stage(checkpoint_dir, out_dir, "user/seqgan-pos-tagger", card)   # the folder to upload (a dry run)
    push(checkpoint_dir, "user/seqgan-pos-tagger", card)                      # create_repo + upload_folder

The uploaded repository keeps the checkpoint layout, so `seqgan` loads it back like a local run
(`load_checkpoint("user/repo", task)`, `--init_from user/repo`, `generate.py --checkpoint user/repo`),
and plain transformers loads a part with `subfolder=`:

    README.md              model card: YAML metadata (library, tags, datasets, license, model-index)
    generator/             config.json, model.safetensors, tokenizer files
    discriminator/         GAN runs: config.json, model.safetensors
    tagger/                segment runs pushed with --tagger: the pos run (generator/, args.json) of the pipeline
    args.json, trainer_state.json, eval_*.json

Weights are safetensors; loading needs `import seqgan` and never `trust_remote_code`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import yaml

from seqgan.checkpoint import read_args, resolve_checkpoint, run_dir
from seqgan.sources import describe
from seqgan.training.methods import METHODS


def _eval_results(ckpt: Path) -> dict:
    """The run's test metrics: eval_test.json beside best/ or last/ (or inside a bare checkpoint)."""
    for folder in dict.fromkeys((run_dir(ckpt), ckpt)):
        f = folder / "eval_test.json"
        if f.is_file():
            return json.loads(f.read_text())
    return {}


def _raw_text_rows(folder: Path) -> str:
    """The raw-text pipeline's CoNLL 2018 figures (evaluate.py --raw_text writes eval_raw_*.json), as table rows."""
    rows = []
    for f in sorted(folder.glob("eval_raw_*.json")):
        r = json.loads(f.read_text())
        rows.append(f"| {Path(r['gold_file']).name} | {r['input']} | " +
                    " | ".join(f"{100 * r[f'{k}_f1']:.2f}" for k in ("tokens", "sentences", "words", "upos")) + " |")
    if not rows:
        return ""
    return ("\n## Raw text (CoNLL 2018 metrics, F1 %)\n\n| gold file | input | Tokens | Sentences | Words | UPOS |\n"
            "| --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows) + "\n\nMeasured by "
            "`scripts/evaluate.py --raw_text` with this segmenter and the pos tagger in `tagger/` (input: one gold "
            "sentence per line, or paragraphs).\n")


def model_card(args: dict, results: dict, repo_id: str, info: dict, last: bool = False, raw_text: str = "") -> str:
    """README.md for the Hub: YAML metadata with a model-index of the test results, then the run's description.
    `info` is the task's CARD (seqgan.tasks.Task): what the model does, its data and license, a usage snippet."""
    from huggingface_hub import EvalResult, ModelCardData

    task, method = args.get("task", "text"), args.get("method", "mle")
    info = {**info, **describe(args, info)}  # the data this run actually saw, not necessarily the task's benchmark
    prefix = "last/test/" if last else "test/"
    evals = [EvalResult(task_type=info["task_type"], task_name=info["task_name"], dataset_type=info["dataset_type"],
                        dataset_name=info["dataset_name"], dataset_config=info.get("dataset_config"),
                        dataset_split="test",
                        metric_type=key, metric_name=name, metric_value=float(results[prefix + key]))
             for key, name in info["metrics"].items() if isinstance(results.get(prefix + key), (int, float))]
    tags = ["seqgan", task, method] + ({"gan": ["gan", args.get("bridge", "")],
                                        "crf": ["crf", "structured-prediction"],
                                         "cot": ["cooperative-training"]}
                                        .get(method, []))
    data = ModelCardData(library_name="seqgan", tags=[t for t in tags if t], license=info["license"],
                         datasets=info["datasets"] or None, pipeline_tag=info["pipeline_tag"],
                         model_name=repo_id.split("/")[-1], eval_results=evals or None)
    if method not in METHODS:
        raise ValueError(f"{method!r} is not a seqgan method ({', '.join(METHODS)}); push a run written by "
                         "scripts/train.py.")
    # One owner of what each method is, and of the options that describe a run of it (seqgan/training/methods.py).
    what = METHODS[method].description + METHODS[method].card_detail(args)
    rows = "\n".join(f"| {name} | {results[prefix + key]:.4f} |" for key, name in info["metrics"].items()
                     if isinstance(results.get(prefix + key), (int, float)))
    usage = info["usage"].replace("{repo_id}", repo_id)
    config = {k: args[k] for k in sorted(args) if args[k] is not None and k not in ("data_dir", "output_dir")}
    # How text figures were measured (seqgan/scoring/protocols.py): published rows compare only under the same one.
    protocol = (f", under the `{args.get('protocol', 'seqgan')}` measurement protocol (`--protocol`)"
                if task == "text" else "")
    body = f"""
# {repo_id.split('/')[-1]}

A seqgan model for the `{task}` task: {what}.

## Results (test split{', last checkpoint' if last else ''})

| metric | value |
| --- | --- |
{rows or '| (no evaluation found) | |'}

Measured by `scripts/train.py` / `scripts/evaluate.py` with seed {args.get('seed')} and data seed \
{args.get('data_seed')}{protocol};
the full results are in `eval_test.json`.
{raw_text}
## Usage

```python
import seqgan  # installed from its repository (pip install -e .); safetensors weights, no trust_remote_code

model = seqgan.load("{repo_id}")
{usage}
```

The parts load with plain transformers too, e.g. `AutoModel.from_pretrained("{repo_id}", subfolder="generator")`
after `import seqgan.models` (which registers seqgan's model classes with the Auto classes).

## Training configuration

```yaml
{yaml.safe_dump(config, sort_keys=True).strip()}
```

## Data and license

{info['attribution']}
"""
    return f"---\n{data.to_yaml()}\n---\n{body}"


def stage(checkpoint: str, out_dir: str | Path, repo_id: str, card: dict, last: bool | None = None,
          tagger: str | None = None) -> Path:
    """Build the folder that would be uploaded: checkpoint files, eval JSONs and README.md (`card`: the task's CARD).
    A segment run can carry the pos run it feeds (`tagger`, in tagger/): one pipeline, raw text to UD, whose card
    shows the raw-text figures (seqgan.load_pipeline(repo_id) loads both). Atomic: the folder is built beside `out_dir`
    and renamed into place only when complete, so a failure at any point
    (an unknown method, a full disk) leaves nothing behind, and a retry starts clean."""
    ckpt = resolve_checkpoint(checkpoint)
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not empty; choose an empty or new folder for the upload.")
    args = read_args(ckpt)
    if "task" not in args:
        raise ValueError(f"{ckpt} has no args.json with a task; push a checkpoint written by scripts/train.py.")
    tagger_ckpt = resolve_checkpoint(tagger) if tagger else None
    if tagger_ckpt is not None and (args["task"] != "segment" or read_args(tagger_ckpt).get("task") != "pos"):
        raise ValueError(f"--tagger joins a pos run to a segment run; here {checkpoint} is a --task {args['task']} "
                         f"run and {tagger} a --task {read_args(tagger_ckpt).get('task')} run.")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        for part in ("generator", "discriminator"):
            if (ckpt / part).is_dir():
                shutil.copytree(ckpt / part, partial / part)
        for name in ("args.json", "trainer_state.json"):
            if (ckpt / name).is_file():
                shutil.copy2(ckpt / name, partial / name)
        for f in sorted(run_dir(ckpt).glob("eval_*.json")):
            shutil.copy2(f, partial / f.name)
        if tagger_ckpt is not None:  # the pos run the pipeline tags with: its generator and options
            shutil.copytree(tagger_ckpt / "generator", partial / "tagger" / "generator")
            shutil.copy2(tagger_ckpt / "args.json", partial / "tagger" / "args.json")
        last = ckpt.name == "last" if last is None else last
        raw = _raw_text_rows(run_dir(ckpt)) if tagger_ckpt is not None else ""
        (partial / "README.md").write_text(model_card(args, _eval_results(ckpt), repo_id, card, last=last,
                                                      raw_text=raw))
        partial.chmod(0o755)  # mkdtemp makes it private to its owner; the staged folder is meant to be read
        partial.replace(out)  # onto a missing or empty folder: the upload folder appears whole or not at all
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return out


def hub_api(token: str):
    """The one seam to the Hub (tests substitute it)."""
    from huggingface_hub import HfApi

    return HfApi(token=token)


def get_token() -> str:
    from huggingface_hub import get_token as _get

    token = _get()  # $HF_TOKEN first, then the stored login
    if not token:
        raise PermissionError("no Hugging Face token: set HF_TOKEN or run `hf auth login` (a token with write "
                              "access).")
    return token


def check_repo_id(repo_id: str) -> None:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if repo_id.count("/") != 1:
        raise ValueError(f"--repo_id {repo_id!r} must be 'user/name' (or 'org/name').")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as e:
        raise ValueError(f"--repo_id {repo_id!r} is not a valid Hub repository id: {e}") from e


def push(checkpoint: str, repo_id: str, card: dict, private: bool = False, revision: str | None = None,
         commit_message: str | None = None, token: str | None = None, tagger: str | None = None) -> str:
    """Create the repository if needed and upload the staged folder in one commit; returns the commit URL."""
    check_repo_id(repo_id)
    token = token or get_token()
    api = hub_api(token)
    with tempfile.TemporaryDirectory(prefix="seqgan-push-") as tmp:
        folder = stage(checkpoint, Path(tmp) / "upload", repo_id, card, tagger=tagger)
        api.create_repo(repo_id, private=private, exist_ok=True)
        if revision:
            api.create_branch(repo_id, branch=revision, exist_ok=True)
        info = api.upload_folder(repo_id=repo_id, folder_path=str(folder), revision=revision,
                                 commit_message=commit_message or f"Upload {Path(checkpoint).name} with seqgan")
    return getattr(info, "commit_url", str(info))
