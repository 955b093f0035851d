"""Hub sharing without a network: save/load round trips, the model card, the push through a fake client."""

import json
from pathlib import Path

import pytest
import torch
from huggingface_hub import ModelCard

import seqgan.hub as hub
from conftest import load_script
from seqgan.checkpoint import load_checkpoint, save_checkpoint
from seqgan.config import DataArguments
from seqgan.tasks import get_task
from test_generator import CASES, TINY


def structured(name):
    """A CRF tagger (pos) or bigram model (oracle) built like train.py --method crf does, with its batch."""
    task, tok, _, batch = CASES[name]()
    torch.manual_seed(1)
    gen = task.build_crf(tok, TINY, DataArguments(task=name, max_length=16 if name == "pos" else 20))
    with torch.no_grad():
        for p in gen.parameters():
            p.normal_(0, 0.5)  # not the zero-initialised transitions: a round trip must carry real values
    return task, tok, gen.eval(), batch


@pytest.mark.parametrize("name", ["pos", "oracle"])
def test_structured_models_round_trip(name, tmp_path):
    task, tok, gen, batch = structured(name)
    save_checkpoint(tmp_path / "ckpt", gen, tok, {"task": name, "method": "crf"}, {"step": 0})
    gen2, tok2, _ = load_checkpoint(str(tmp_path / "ckpt"), task)
    assert type(gen2) is type(gen)
    with torch.no_grad():
        assert torch.equal(gen(batch), gen2.eval()(batch))
        if name == "pos":
            assert torch.equal(gen.sample(batch, greedy=True).tokens, gen2.sample(batch, greedy=True).tokens)  # Viterbi
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
    assert (card.data.library_name, card.data.license, card.data.pipeline_tag) == ("seqgan", "cc-by-sa-4.0", "token-classification")
    assert "universal_dependencies" in card.data.datasets
    got = {r.metric_type: r.metric_value for r in card.data.eval_results}
    assert got == {"accuracy": 0.9123, "exact_match": 0.45, "unknown_word_accuracy": 0.7}
    assert "CC BY-SA 4.0" in card.text and 'load_checkpoint("me/pos-tagger"' in card.text
    assert "/somewhere" not in card.text  # local paths stay out of the card


def test_dry_run_writes_the_complete_upload_folder(tmp_path, monkeypatch):
    run = make_run(tmp_path)
    monkeypatch.setattr(hub, "hub_api", lambda token: pytest.fail("a dry run must not contact the Hub"))
    files = load_script("push_to_hub").main(["--checkpoint", str(run), "--repo_id", "me/pos-tagger", "--dry_run"])
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
    out = load_script("push_to_hub").main(["--checkpoint", str(run), "--repo_id", "me/pos-tagger", "--private",
                                           "--revision", "v1", "--commit_message", "first tagger"])
    assert tokens == ["hf_test_token"] and out == ["https://huggingface.co/me/pos-tagger/commit/abc"]
    assert api.calls[0] == ("create_repo", "me/pos-tagger", True, True)
    assert api.calls[1] == ("create_branch", "me/pos-tagger", "v1")
    kind, repo, rev, msg, files = api.calls[2]
    assert (kind, repo, rev, msg) == ("upload_folder", "me/pos-tagger", "v1", "first tagger")
    assert "README.md" in files and "generator/model.safetensors" in files and len(api.calls) == 3


def test_push_errors_are_clear(tmp_path, monkeypatch):
    run = make_run(tmp_path)
    push = load_script("push_to_hub").main
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    with pytest.raises(PermissionError, match="no Hugging Face token: set HF_TOKEN"):
        push(["--checkpoint", str(run), "--repo_id", "me/pos-tagger"])
    with pytest.raises(ValueError, match="must be 'user/name'"):
        push(["--checkpoint", str(run), "--repo_id", "just-a-name", "--dry_run"])
    with pytest.raises(ValueError, match="not a valid Hub repository id"):
        push(["--checkpoint", str(run), "--repo_id", "me/bad name!", "--dry_run"])
    with pytest.raises(FileNotFoundError, match="holds no seqgan checkpoint"):
        push(["--checkpoint", str(tmp_path), "--repo_id", "me/x", "--dry_run"])


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
