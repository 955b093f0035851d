"""Sharing runs on the Hugging Face Hub: the folder to upload, its model card, and the push itself.

    folder = stage(checkpoint_dir, out_dir)            # exactly what would be uploaded (a dry run stops here)
    push(checkpoint_dir, "user/seqgan-pos-tagger")     # create_repo, then one upload_folder commit

The uploaded repository keeps the checkpoint layout, so `seqgan` loads it back like a local run
(`load_checkpoint("user/repo", task)`, `--init_from user/repo`, `generate.py --checkpoint user/repo`),
and plain transformers loads a part with `subfolder=`:

    README.md              model card: YAML metadata (library, tags, datasets, license, model-index)
    generator/             config.json, model.safetensors, tokenizer files
    discriminator/         GAN runs: config.json, model.safetensors
    args.json, trainer_state.json, eval_*.json

Weights are safetensors; loading needs `import seqgan` and never `trust_remote_code`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import yaml

from seqgan.checkpoint import read_args, resolve_checkpoint, write_text_atomic

# Per task: what the model does and where its data comes from (card metadata and attribution).
TASK_CARDS = {
    "pos": {
        "pipeline_tag": "token-classification", "datasets": ["universal_dependencies"], "license": "cc-by-sa-4.0",
        "task_type": "token-classification", "task_name": "Part-of-speech tagging (UPOS)",
        "dataset_type": "universal_dependencies", "dataset_name": "UD English EWT v2.16", "dataset_config": "en_ewt",
        "metrics": {"accuracy": "UPOS accuracy", "exact_match": "Sentence exact match",
                    "unknown_word_accuracy": "Accuracy on words unseen in training"},
        "attribution": "Trained on Universal Dependencies English EWT v2.16 (annotations © Stanford University, "
                       "text from the LDC English Web Treebank), licensed CC BY-SA 4.0: "
                       "https://github.com/UniversalDependencies/UD_English-EWT. As a work trained on it, this model "
                       "is shared under the same terms (CC BY-SA 4.0); attribute the treebank when you reuse it.",
    },
    "text": {
        "pipeline_tag": "text-generation", "datasets": ["HuggingFaceM4/COCO"], "license": "cc-by-4.0",
        "task_type": "text-generation", "task_name": "Unconditional caption generation",
        "dataset_type": "coco-captions", "dataset_name": "MS-COCO captions (Texygen split)",
        "metrics": {"nll": "NLL per token", "bleu_5": "Test-BLEU-5", "self_bleu_5": "Self-BLEU-5 (leave-one-out)"},
        "attribution": "Trained on MS-COCO captions (Lin et al. 2014; Chen et al. 2015), CC BY 4.0, in the text-GAN "
                       "benchmark preparation of Texygen (geek-ai/Texygen, MIT): data/image_coco.txt, test_coco.txt.",
    },
    "oracle": {
        "pipeline_tag": "text-generation", "datasets": [], "license": "other",
        "task_type": "text-generation", "task_name": "SeqGAN synthetic oracle",
        "dataset_type": "seqgan-oracle", "dataset_name": "SeqGAN oracle LSTM samples",
        "metrics": {"nll_oracle": "NLL_oracle (nats/token)", "nll_test": "NLL_test (nats/token)"},
        "attribution": "Trained on samples of the SeqGAN oracle LSTM (Yu et al., AAAI 2017; LantaoYu/SeqGAN). The "
                       "upstream repository states no license; cite the paper.",
    },
}


def _eval_results(ckpt: Path) -> dict:
    """The run's test metrics: eval_test.json beside best/ or last/ (or inside a bare checkpoint)."""
    for folder in (ckpt.parent, ckpt) if ckpt.name in ("best", "last") else (ckpt,):
        f = folder / "eval_test.json"
        if f.is_file():
            return json.loads(f.read_text())
    return {}


def model_card(args: dict, results: dict, repo_id: str, last: bool = False) -> str:
    """README.md for the Hub: YAML metadata with a model-index of the test results, then the run's description."""
    from huggingface_hub import EvalResult, ModelCardData

    task, method = args.get("task", "text"), args.get("method", "mle")
    info = TASK_CARDS[task]
    prefix = "last/test/" if last else "test/"
    evals = [EvalResult(task_type=info["task_type"], task_name=info["task_name"], dataset_type=info["dataset_type"],
                        dataset_name=info["dataset_name"], dataset_config=info.get("dataset_config"), dataset_split="test",
                        metric_type=key, metric_name=name, metric_value=float(results[prefix + key]))
             for key, name in info["metrics"].items() if isinstance(results.get(prefix + key), (int, float))]
    tags = ["seqgan", task, method] + ({"gan": ["gan", args.get("bridge", "")], "crf": ["crf", "structured-prediction"]}
                                        .get(method, []))
    data = ModelCardData(library_name="seqgan", tags=[t for t in tags if t], license=info["license"],
                         datasets=info["datasets"] or None, pipeline_tag=info["pipeline_tag"],
                         model_name=repo_id.split("/")[-1], eval_results=evals or None)
    what = {"mle": "a generator trained by maximum likelihood",
            "gan": f"a generator fine-tuned adversarially (bridge `{args.get('bridge')}`, loss `{args.get('gan_loss')}`)",
            "crf": f"the discriminator-only structured baseline (`--crf_loss {args.get('crf_loss')}`, Viterbi decoding)"}[method]
    if method == "gan":
        what += (f": {args.get('adv_steps')} rounds of {args.get('d_steps')} D step(s) and {args.get('g_steps')} G step(s), "
                 f"G lr {args.get('g_learning_rate')}, D lr {args.get('d_learning_rate')}, MLE weight {args.get('mle_weight')}")
        if args.get("bridge") in ("gumbel", "st-gumbel"):
            what += f", Gumbel beta_max {args.get('gumbel_beta_max')} ({args.get('gumbel_schedule')} schedule)"
    rows = "\n".join(f"| {name} | {results[prefix + key]:.4f} |" for key, name in info["metrics"].items()
                     if isinstance(results.get(prefix + key), (int, float)))
    usage = {
        "pos": ('print(get_task("pos").tag_sentences(gen, tokenizer, ["The dog barks ."]))\n'
                "# or on the command line:  python scripts/generate.py --checkpoint " + repo_id + ' --sentence "The dog barks ."'),
        "text": "out = gen.sample(num_samples=5, temperature=0.9)\nprint([tokenizer.decode(t[m].tolist()) for t, m in zip(out.tokens, out.mask)])",
        "oracle": "out = gen.sample(num_samples=5)   # (5, 20) oracle token ids\nprint(out.tokens)",
    }[task]
    config = {k: args[k] for k in sorted(args) if args[k] is not None and k not in ("data_dir", "output_dir")}
    body = f"""
# {repo_id.split('/')[-1]}

A seqgan model for the `{task}` task: {what}.

## Results (test split{', last checkpoint' if last else ''})

| metric | value |
| --- | --- |
{rows or '| (no evaluation found) | |'}

Measured by `scripts/train.py` / `scripts/evaluate.py` with seed {args.get('seed')} and data seed {args.get('data_seed')};
the full results are in `eval_test.json`.

## Usage

```python
import seqgan  # registers seqgan's model classes with transformers; no trust_remote_code needed
from seqgan.checkpoint import load_checkpoint
from tasks import get_task

gen, tokenizer, args = load_checkpoint("{repo_id}", get_task("{task}"))
{usage}
```

The parts load with plain transformers too, e.g. `AutoModel.from_pretrained("{repo_id}", subfolder="generator")`
after `import seqgan`.

## Training configuration

```yaml
{yaml.safe_dump(config, sort_keys=True).strip()}
```

## Data and license

{info['attribution']}
"""
    return f"---\n{data.to_yaml()}\n---\n{body}"


def stage(checkpoint: str, out_dir: str | Path, repo_id: str, last: bool | None = None) -> Path:
    """Build the folder that would be uploaded: checkpoint files, eval JSONs and README.md."""
    ckpt = resolve_checkpoint(checkpoint)
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not empty; choose an empty or new folder for the upload.")
    args = read_args(ckpt)
    if "task" not in args:
        raise ValueError(f"{ckpt} has no args.json with a task; push a checkpoint written by scripts/train.py.")
    out.mkdir(parents=True, exist_ok=True)
    for part in ("generator", "discriminator"):
        if (ckpt / part).is_dir():
            shutil.copytree(ckpt / part, out / part)
    for name in ("args.json", "trainer_state.json"):
        if (ckpt / name).is_file():
            shutil.copy2(ckpt / name, out / name)
    run_dir = ckpt.parent if ckpt.name in ("best", "last") else ckpt
    for f in sorted(run_dir.glob("eval_*.json")):
        shutil.copy2(f, out / f.name)
    results = _eval_results(ckpt)
    write_text_atomic(out / "README.md", model_card(args, results, repo_id, last=ckpt.name == "last" if last is None else last))
    return out


def hub_api(token: str):
    """The one seam to the Hub (tests substitute it)."""
    from huggingface_hub import HfApi

    return HfApi(token=token)


def get_token() -> str:
    from huggingface_hub import get_token as _get

    token = os.environ.get("HF_TOKEN") or _get()
    if not token:
        raise PermissionError("no Hugging Face token: set HF_TOKEN or run `hf auth login` (a token with write access).")
    return token


def check_repo_id(repo_id: str) -> None:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if repo_id.count("/") != 1:
        raise ValueError(f"--repo_id {repo_id!r} must be 'user/name' (or 'org/name').")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as e:
        raise ValueError(f"--repo_id {repo_id!r} is not a valid Hub repository id: {e}") from e


def push(checkpoint: str, repo_id: str, private: bool = False, revision: str | None = None,
         commit_message: str | None = None, token: str | None = None) -> str:
    """Create the repository if needed and upload the staged folder in one commit; returns the commit URL."""
    check_repo_id(repo_id)
    token = token or get_token()
    api = hub_api(token)
    with tempfile.TemporaryDirectory(prefix="seqgan-push-") as tmp:
        folder = stage(checkpoint, Path(tmp) / "upload", repo_id)
        api.create_repo(repo_id, private=private, exist_ok=True)
        if revision:
            api.create_branch(repo_id, branch=revision, exist_ok=True)
        info = api.upload_folder(repo_id=repo_id, folder_path=str(folder), revision=revision,
                                 commit_message=commit_message or f"Upload {Path(checkpoint).name} with seqgan")
    return getattr(info, "commit_url", str(info))
