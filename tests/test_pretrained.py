"""Pretrained generators with their own subword tokenizers (tiny GPT-2 and Llama models built and saved here):
MLE lowers the loss, every bridge runs adversarial rounds, samples decode to text, and bad models stop early."""

import json

import pytest

from conftest import load_script
from seqgan.bridges import BRIDGES
from seqgan.checkpoint import load_checkpoint
from seqgan.tasks import get_task
from seqgan.tiny import tiny_causal_lm, tiny_encoder


@pytest.fixture(scope="module")
def coco_files(tmp_path_factory):
    import os
    from pathlib import Path

    data = Path(os.environ.get("SEQGAN_DATA_DIR", "")) / "coco" / "image_coco.txt"
    if not data.is_file():
        pytest.skip("needs $SEQGAN_DATA_DIR/coco")  # conftest turns a skip into a failure in CI
    lines = data.read_text().splitlines()
    root = tmp_path_factory.mktemp("coco")
    (root / "train.txt").write_text("\n".join(lines[:300]) + "\n")
    (root / "test.txt").write_text("\n".join(lines[300:340]) + "\n")
    return root, lines[:3000]


def common(root, out):
    return ["--task", "text", "--train_file", str(root / "train.txt"), "--test_file", str(root / "test.txt"),
            "--dev_size", "20", "--max_length", "64", "--batch_size", "16", "--num_eval_samples", "8",
            "--num_test_samples", "8", "--output_dir", str(out)]


@pytest.mark.parametrize("family", ["gpt2", "llama"])
def test_a_pretrained_causal_lm_trains_by_mle_then_every_bridge(family, coco_files, tmp_path, capsys):
    root, lines = coco_files
    path = tiny_causal_lm(tmp_path, family, lines)
    train = load_script("train")
    mle = tmp_path / "mle"
    train.main([*common(root, mle), "--generator_name_or_path", str(path), "--max_steps", "40", "--log_every", "5",
                "--eval_every", "40", "--learning_rate", "3e-3", "--warmup_ratio", "0"])
    assert "no pad token; added '<pad>'" in capsys.readouterr().err  # neither family ships one: added, and said so
    losses = [r["train/loss"] for r in map(json.loads, (mle / "metrics.jsonl").read_text().splitlines()) if "train/loss" in r]
    assert len(losses) == 8 and losses[-1] < losses[0] - 0.5, losses
    gen, tok, _ = load_checkpoint(str(mle), get_task("text"))
    assert type(gen.model).__name__ == {"gpt2": "GPT2LMHeadModel", "llama": "LlamaForCausalLM"}[family]
    assert tok.pad_token == "<pad>" and gen.eos_id == tok.eos_token_id
    for bridge in BRIDGES:
        out = tmp_path / f"gan-{bridge}"
        res = train.main([*common(root, out), "--method", "gan", "--init_from", str(mle), "--bridge", bridge,
                          "--adv_steps", "10", "--d_pretrain_steps", "2", "--gan_eval_every", "10", "--num_rollouts", "2",
                          "--g_learning_rate", "1e-3", "--batch_size", "8"] + (["--disc_causal"] if bridge == "dense" else []))
        assert all(0.0 <= res[f"test/bleu_{n}"] <= 1.0 for n in (2, 3, 4, 5)), bridge
        texts = load_script("generate").main(["--checkpoint", str(out), "--num_samples", "4", "--seed", "1"])
        assert len(texts) == 4 and all(isinstance(t, str) and "\n" not in t for t in texts)
        assert any(t.strip() for t in texts), bridge  # subword ids decode to text


def test_models_that_cannot_be_g_stop_before_training(coco_files, tmp_path):
    root, lines = coco_files
    bert = tiny_encoder(tmp_path, lines)
    with pytest.raises(ValueError, match="BertModel, not a causal language model.*--disc_name_or_path"):
        load_script("train").main([*common(root, tmp_path / "x"), "--generator_name_or_path", str(bert)])
    gpt2 = tiny_causal_lm(tmp_path, "gpt2", lines)
    with pytest.raises(ValueError, match="--max_length 200 needs 201 positions.*has 128"):
        load_script("train").main([*common(root, tmp_path / "y"), "--generator_name_or_path", str(gpt2), "--max_length", "200"])
    with pytest.raises(ValueError, match="not a seqgan oracle checkpoint"):
        get_task("oracle").pretrained_generator(str(gpt2), None, None)
