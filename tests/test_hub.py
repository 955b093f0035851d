"""Hub sharing without a network: save/load round trips, the model card, the push through a fake client."""

import json
from pathlib import Path

import pytest
import torch
from helpers import CASES, structured
from huggingface_hub import ModelCard

import seqgan.hub as hub
from conftest import load_script
from seqgan.checkpoint import load_checkpoint, save_checkpoint
from seqgan.tasks import get_task


@pytest.mark.parametrize("name", ["pos", "oracle"])
def test_structured_models_round_trip(name, tmp_path):
    task, tok, gen, batch = structured(name)
    save_checkpoint(tmp_path / "ckpt", gen, tok, {"task": name, "method": "crf"}, {"step": 0})
    gen2, tok2, _ = load_checkpoint(str(tmp_path / "ckpt"), task)
    assert type(gen2) is type(gen)
    with torch.no_grad():
        assert torch.equal(gen(batch), gen2.eval()(batch))
        if name == "pos":
            # Viterbi
            assert torch.equal(gen.sample(batch, greedy=True).tokens, gen2.sample(batch, greedy=True).tokens)
        else:
            assert torch.equal(gen.model.viterbi(), gen2.model.viterbi())
    files = {p.name for p in (tmp_path / "ckpt" / "generator").iterdir()}
    assert "model.safetensors" in files and not [f for f in files if f.endswith((".bin", ".pt", ".pkl"))]


def make_run(tmp_path) -> Path:
    """A run folder as scripts/train.py leaves it: best/ checkpoint, args and eval_test.json."""
    task, tok, gen, batch = CASES["pos"]()
    args = {"task": "pos", "method": "mle", "seed": 42, "data_seed": 1234, "data_dir": "/somewhere"}
    save_checkpoint(tmp_path / "run" / "best", gen, tok, args, {"step": 3})
    (tmp_path / "run" / "args.json").write_text(json.dumps(args))
    results = {"test/accuracy": 0.9123, "test/exact_match": 0.45, "test/unknown_word_accuracy": 0.7, "task": "pos"}
    (tmp_path / "run" / "eval_test.json").write_text(json.dumps(results))
    return tmp_path / "run"


def test_model_card_metadata_parses_and_matches_eval_json(tmp_path):
    run = make_run(tmp_path)
    folder = hub.stage(str(run), tmp_path / "up", "me/pos-tagger", get_task("pos").CARD)
    card = ModelCard.load(folder / "README.md")
    assert (card.data.library_name, card.data.license, card.data.pipeline_tag) == ("seqgan", "cc-by-sa-4.0",
                                                                                   "token-classification")
    assert "universal_dependencies" in card.data.datasets
    got = {r.metric_type: r.metric_value for r in card.data.eval_results}
    assert got == {"accuracy": 0.9123, "exact_match": 0.45, "unknown_word_accuracy": 0.7}
    assert "CC BY-SA 4.0" in card.text and 'seqgan.load("me/pos-tagger")' in card.text
    assert "/somewhere" not in card.text  # local paths stay out of the card


def test_dry_run_writes_the_complete_upload_folder(tmp_path, monkeypatch):
    run = make_run(tmp_path)
    monkeypatch.setattr(hub, "hub_api", lambda token: pytest.fail("a dry run must not contact the Hub"))
    files = load_script("push_to_hub").main(["--checkpoint", str(run), "--hub_model_id", "me/pos-tagger", "--dry_run"])
    assert set(files) == {"README.md", "args.json", "trainer_state.json", "eval_test.json", "generator/config.json",
                          "generator/model.safetensors", "generator/tokenizer.json", "generator/tokenizer_config.json"}
    # The folder it wrote is a loadable checkpoint, exactly like the run.
    gen, _, args = load_checkpoint(str(run / "hub_upload"), get_task("pos"))
    assert args["task"] == "pos"


class FakeApi:
    def __init__(self):
        self.calls = []

    def create_repo(self, repo_id, private=False, exist_ok=False):
        self.calls.append(("create_repo", repo_id, private, exist_ok))

    def create_branch(self, repo_id, branch, exist_ok=False):
        self.calls.append(("create_branch", repo_id, branch))

    def upload_folder(self, repo_id, folder_path, revision=None, commit_message=None):
        files = sorted(str(p.relative_to(folder_path)) for p in Path(folder_path).rglob("*") if p.is_file())
        self.calls.append(("upload_folder", repo_id, revision, commit_message, files))
        return type("CommitInfo", (), {"commit_url": f"https://huggingface.co/{repo_id}/commit/abc"})()


def test_push_creates_repo_and_uploads_one_commit(tmp_path, monkeypatch):
    run = make_run(tmp_path)
    api, tokens = FakeApi(), []
    monkeypatch.setattr(hub, "hub_api", lambda token: tokens.append(token) or api)
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    out = load_script("push_to_hub").main(["--checkpoint", str(run), "--hub_model_id", "me/pos-tagger",
                                           "--hub_private",
                                           "--revision", "v1", "--commit_message", "first tagger"])
    assert tokens == ["hf_test_token"] and out == ["https://huggingface.co/me/pos-tagger/commit/abc"]
    assert api.calls[0] == ("create_repo", "me/pos-tagger", True, True)
    assert api.calls[1] == ("create_branch", "me/pos-tagger", "v1")
    kind, repo, rev, msg, files = api.calls[2]
    assert (kind, repo, rev, msg) == ("upload_folder", "me/pos-tagger", "v1", "first tagger")
    assert "README.md" in files and "generator/model.safetensors" in files and len(api.calls) == 3


def test_the_old_flag_names_still_push_and_warn(tmp_path, monkeypatch):
    run, api = make_run(tmp_path), FakeApi()
    monkeypatch.setattr(hub, "hub_api", lambda token: api)
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    with pytest.warns(FutureWarning) as caught:
        load_script("push_to_hub").main(["--checkpoint", str(run), "--repo_id=me/pos-tagger", "--private"])
    messages = [str(w.message) for w in caught]
    assert any(m.startswith("--repo_id is deprecated") and "use --hub_model_id" in m for m in messages)
    assert any(m.startswith("--private is deprecated") and "use --hub_private" in m for m in messages)
    assert api.calls[0] == ("create_repo", "me/pos-tagger", True, True)  # the same push as with the new names


def test_push_errors_are_clear(tmp_path, monkeypatch):
    run = make_run(tmp_path)
    push = load_script("push_to_hub").main
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    with pytest.raises(PermissionError, match="no Hugging Face token: set HF_TOKEN"):
        push(["--checkpoint", str(run), "--hub_model_id", "me/pos-tagger"])
    with pytest.raises(ValueError, match="must be 'user/name'"):
        push(["--checkpoint", str(run), "--hub_model_id", "just-a-name", "--dry_run"])
    with pytest.raises(ValueError, match="not a valid Hub repository id"):
        push(["--checkpoint", str(run), "--hub_model_id", "me/bad name!", "--dry_run"])
    with pytest.raises(FileNotFoundError, match="holds no seqgan checkpoint"):
        push(["--checkpoint", str(tmp_path), "--hub_model_id", "me/x", "--dry_run"])


def test_train_push_to_hub_fails_before_training_without_token(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    with pytest.raises(PermissionError, match="no Hugging Face token"):
        load_script("train").main(["--task", "oracle", "--push_to_hub", "--hub_model_id", "me/x",
                                   "--output_dir", str(tmp_path / "never")])
    assert not (tmp_path / "never").exists()
    with pytest.raises(ValueError, match="--push_to_hub needs --hub_model_id"):
        load_script("train").main(["--task", "oracle", "--push_to_hub"])


def test_pos_tag_sentences_helper():
    task, tok, gen, _ = CASES["pos"]()
    (line,) = task.tag_sentences(gen, tok, ["The dog barks ."])
    assert [w.rsplit("/", 1)[0] for w in line.split()] == ["The", "dog", "barks", "."]
    assert task.tag_sentences(gen, tok, ["   "]) == []


TINY_POS = ["--task", "pos", "--hidden_size", "16", "--num_layers", "1", "--num_heads", "2", "--ffn_size", "32",
            "--char_dim", "8", "--char_filters", "8", "--batch_size", "8", "--max_steps", "2", "--eval_every", "2",
            "--min_steps", "0"]
TINY_TEXT = ["--task", "text", "--hidden_size", "16", "--num_layers", "1", "--num_heads", "2", "--ffn_size", "32",
             "--batch_size", "8", "--max_steps", "2", "--eval_every", "2", "--num_eval_samples", "8",
             "--num_test_samples", "8", "--word_min_freq", "1", "--iwae_samples", "2", "--latent_size", "4",
             "--dev_size", "10"]
TINY_GAN = ["--adv_steps", "1", "--d_pretrain_steps", "1", "--gan_eval_every", "1", "--gan_log_every", "1",
            "--disc_hidden_size", "16", "--disc_layers", "1", "--disc_heads", "2", "--disc_ffn_size", "32"]


@pytest.fixture(scope="module")
def runs_of_every_method(tmp_path_factory):
    """A tiny real run of every --method (seqgan/training/methods.py METHODS), on a few real sentences."""
    from conftest import shared_data
    from seqgan.training.methods import METHODS

    tmp = tmp_path_factory.mktemp("methods")
    ewt, coco = shared_data("ud_en_ewt"), shared_data("coco")
    blocks = (ewt / "en_ewt-ud-train.conllu").read_text(encoding="utf-8").split("\n\n")
    (tmp / "train.conllu").write_text("\n\n".join(blocks[:30]) + "\n\n", encoding="utf-8")
    (tmp / "test.conllu").write_text("\n\n".join(blocks[30:40]) + "\n\n", encoding="utf-8")
    lines = (coco / "image_coco.txt").read_text().splitlines()
    (tmp / "train.txt").write_text("\n".join(lines[:60]) + "\n")
    (tmp / "test.txt").write_text("\n".join(lines[60:70]) + "\n")
    pos = [*TINY_POS, "--train_file", str(tmp / "train.conllu"), "--test_file", str(tmp / "test.conllu"), "--dev_size",
           "8"]
    text = [*TINY_TEXT, "--train_file", str(tmp / "train.txt"), "--test_file", str(tmp / "test.txt")]
    argv = {"mle": pos, "crf": pos, "hmm": pos, "energy": pos,
            "gan": [*pos, "--init_from", str(tmp / "mle"), *TINY_GAN],
            "random-code": text, "ae": text, "vae": text,
            "latent-gan": [*text, "--init_from", str(tmp / "ae"), *TINY_GAN],
            "cot": [*text, "--mle_pretrain_epochs", "1", "--adv_steps", "2", "--d_pretrain_steps", "1",
                    "--gan_eval_every", "1"]}
    assert set(argv) == set(METHODS)  # a new method gets its tiny run here
    train = load_script("train").main
    # gan after mle, latent-gan after ae
    for method in ("mle", "crf", "hmm", "energy", "gan", "random-code", "ae", "vae", "latent-gan", "cot"):
        train([*argv[method], "--method", method, "--output_dir", str(tmp / method)])
    return tmp


@pytest.mark.parametrize("method", ["mle", "gan", "crf", "hmm", "energy", "random-code", "ae", "vae", "latent-gan",
                                    "cot"])
def test_every_method_gets_a_card_a_dry_run_push_and_reloads(method, runs_of_every_method, monkeypatch):
    import seqgan
    from seqgan.training.methods import METHODS

    run = runs_of_every_method / method
    monkeypatch.setattr(hub, "hub_api", lambda token: pytest.fail("a dry run must not contact the Hub"))
    files = load_script("push_to_hub").main(["--checkpoint", str(run), "--hub_model_id", "me/x", "--dry_run",
                                            "--dry_run_dir", str(run.parent / f"up-{method}")])
    assert "README.md" in files and "generator/model.safetensors" in files
    assert ("discriminator/model.safetensors" in files) == (method == "gan")
    card = ModelCard.load(run.parent / f"up-{method}" / "README.md")
    assert METHODS[method].description in card.text and method in card.data.tags
    # The card's Python snippet runs as written, on the staged folder in place of the Hub id.
    snippet = card.text.split("```python\n", 1)[1].split("```", 1)[0].replace('"me/x"',
                                                                              repr(str(run.parent / f"up-{method}")))
    exec(compile(snippet, f"card of {method}", "exec"), {})
    task = get_task(json.loads((run / "args.json").read_text())["task"])
    gen, _, args = load_checkpoint(str(run.parent / f"up-{method}"), task)  # the staged folder is a checkpoint
    assert args["method"] == method and type(gen).__name__ == type(load_checkpoint(str(run), task)[0]).__name__
    # ... and seqgan.load makes it ready to use, doing what the run itself does.
    staged, original = seqgan.load(str(run.parent / f"up-{method}")), seqgan.load(str(run))
    assert (staged.task, staged.method) == (original.task, method)
    if staged.task == "pos":
        assert staged.tag(["The dog barks."]) == original.tag(["The dog barks."])
    else:
        assert staged.sample(4, seed=0) == original.sample(4, seed=0)
        texts = ["a dog sits on a bench .", "a man riding a horse on the beach ."]
        torch.manual_seed(0)  # a latent run's score is an importance-sampled bound: the same draws for both
        first = staged.score(texts)
        torch.manual_seed(0)
        assert first == original.score(texts) and all(s < 0 for s in first)


def test_a_failure_while_staging_leaves_nothing_behind_and_a_retry_works(tmp_path, monkeypatch):
    run = make_run(tmp_path)
    push = load_script("push_to_hub").main

    def broken(*args, **kwargs):
        raise OSError("disk full (planted)")

    monkeypatch.setattr(hub, "model_card", broken)  # the last step of staging: every file is copied by then
    with pytest.raises(OSError, match="planted"):
        push(["--checkpoint", str(run), "--hub_model_id", "me/x", "--dry_run"])
    # no hub_upload/, no debris
    assert sorted(p.name for p in run.iterdir()) == ["args.json", "best", "eval_test.json"]
    monkeypatch.undo()
    files = push(["--checkpoint", str(run), "--hub_model_id", "me/x", "--dry_run"])
    assert "README.md" in files and (run / "hub_upload" / "README.md").is_file()
