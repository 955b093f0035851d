"""Pretrained generators with their own subword tokenizers (tiny GPT-2 and Llama models built and saved here):
MLE lowers the loss, every bridge runs adversarial rounds, samples decode to text, and bad models stop early."""

import json

import pytest
from helpers import TEXT_TINY, write_conllu

from conftest import load_script, shared_data
from seqgan.checkpoint import load_checkpoint
from seqgan.models.tiny import tiny_causal_lm, tiny_encoder
from seqgan.tasks import get_task
from seqgan.training.bridges import BRIDGES


@pytest.fixture(scope="module")
def coco_files(tmp_path_factory):
    lines = (shared_data("coco") / "image_coco.txt").read_text().splitlines()
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
    losses = [r["train/loss"] for r in map(json.loads,
                                           (mle / "metrics.jsonl").read_text().splitlines()) if "train/loss" in r]
    assert len(losses) == 8 and losses[-1] < losses[0] - 0.5, losses
    gen, tok, _ = load_checkpoint(str(mle), get_task("text"))
    assert type(gen.model).__name__ == {"gpt2": "GPT2LMHeadModel", "llama": "LlamaForCausalLM"}[family]
    assert tok.pad_token == "<pad>" and gen.eos_id == tok.eos_token_id
    # Subword ids are scored as the task's words: real sentences encoded by this tokenizer come back word for word.
    text = get_task("text")
    real = lines[:50]
    assert text.sample_words(tok, [tok(ln, add_special_tokens=False)["input_ids"] for ln in real]) == text.words(real)
    sweep = load_script("evaluate").main(["--checkpoint", str(mle), "--temperatures", "0.7,1.0", "--split", "dev",
                                          "--num_eval_samples", "8", "--output_file", str(tmp_path / "sweep")])
    assert [r["temperature"] for r in sweep] == [0.7, 1.0] and (tmp_path / "sweep.png").is_file()
    for bridge in BRIDGES:
        out = tmp_path / f"gan-{bridge}"
        res = train.main([*common(root, out), "--method", "gan", "--init_from", str(mle), "--bridge", bridge,
                          "--adv_steps", "10", "--d_pretrain_steps", "2", "--gan_eval_every", "10", "--num_rollouts",
                          "2",
                          "--g_learning_rate", "1e-3", "--batch_size",
                          "8"] + (["--disc_causal"] if bridge == "dense" else []))
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
        load_script("train").main([*common(root, tmp_path / "y"), "--generator_name_or_path", str(gpt2),
                                   "--max_length", "200"])
    with pytest.raises(ValueError, match="not a seqgan oracle checkpoint"):
        get_task("oracle").pretrained_generator(str(gpt2), None, None)


@pytest.fixture(scope="module")
def af_files(tmp_path_factory):

    data = shared_data("ud_af_afribooms")
    root = tmp_path_factory.mktemp("af")
    pos = get_task("pos")
    # Sentences of at most 25 words: they fit the tiny encoder's 128 subwords (the limit has its own test).
    files = {s: write_conllu([r for r in pos.read_conllu(data / f"af_afribooms-ud-{s}.conllu")
                              if len(r["words"]) <= 25][:n],
                             root / f"{s}.conllu") for s, n in (("train", 60), ("dev", 10), ("test", 12))}
    lines = [" ".join(r["words"]) for r in get_task("pos").read_conllu(data / "af_afribooms-ud-train.conllu")]
    return files, tiny_encoder(root, lines)


def test_words_start_where_the_tokenizer_says(af_files):
    from transformers import AutoTokenizer

    from seqgan.models.subwords import word_pieces

    files, bert = af_files
    tok = AutoTokenizer.from_pretrained(bert)
    for s in get_task("pos").read_conllu(files["test"]):
        enc = tok(s["words"], is_split_into_words=True)  # the reference: the tokenizer's own word alignment
        wid = enc.word_ids()
        expected = [wid.index(i) for i in range(len(s["words"]))]
        sub, first, kept = word_pieces(tok, s["words"], limit=512)
        assert sub == enc["input_ids"] and first == expected and kept == len(s["words"])
    sub, first, kept = word_pieces(tok, ["onbegryplikheid"] * 40, limit=30)
    assert len(sub) <= 30 and kept == len(first) < 40 and sub[-1] == tok.sep_token_id


def test_a_pretrained_encoder_serves_the_tagger_the_crf_and_d(af_files, tmp_path):
    files, bert = af_files
    train = load_script("train")
    base = ["--task", "pos", "--encoder_name_or_path", str(bert), "--train_file", str(files["train"]),
            "--validation_file",
            str(files["dev"]), "--test_file", str(files["test"]), "--hidden_size", "32", "--num_heads", "2",
            "--ffn_size", "64",
            "--batch_size", "8", "--learning_rate", "3e-3", "--warmup_ratio", "0", "--min_steps", "0"]
    res = train.main([*base, "--max_steps", "30", "--log_every", "5", "--eval_every", "30", "--output_dir",
                      str(tmp_path / "mle")])
    losses = [r["train/loss"] for r in map(json.loads, (tmp_path / "mle" / "metrics.jsonl").read_text().splitlines())
              if "train/loss" in r]
    assert losses[-1] < losses[0] - 0.5, losses
    gen, tok, _ = load_checkpoint(str(tmp_path / "mle"), get_task("pos"))
    assert gen.model.config.encoder_name == str(bert) and type(gen.model.encoder).__name__ == "BertModel"
    assert tok.cls_token == "[CLS]" and res["test/num_words"] > 0  # the encoder's own tokenizer was saved and reloaded
    (line,) = get_task("pos").tag_sentences(gen, tok, ["Die kinders speel buite ."])
    assert [w.rsplit("/", 1)[0] for w in line.split()] == ["Die", "kinders", "speel", "buite", "."]
    crf = train.main([*base, "--method", "crf", "--max_steps", "4", "--eval_every", "4", "--output_dir",
                      str(tmp_path / "crf")])
    assert 0.0 <= crf["test/accuracy"] <= 1.0
    gan = train.main([*base, "--method", "gan", "--init_from", str(tmp_path / "mle"), "--adv_steps", "3",
                      "--d_pretrain_steps", "2", "--gan_eval_every", "3", "--output_dir", str(tmp_path / "gan")])
    assert 0.0 <= gan["test/accuracy"] <= 1.0
    with pytest.raises(ValueError, match="--encoder_name_or_path is the pos tagger's sentence encoder"):
        train.main(["--task", "text", "--encoder_name_or_path", str(bert)])


def test_a_sentence_beyond_the_encoders_limit_gets_the_reason(af_files, tmp_path):

    files, bert = af_files
    long = write_conllu([{"words": ["onbegryplikheid"] * 100, "tags": ["NOUN"] * 100}], tmp_path / "long.conllu")
    with pytest.raises(ValueError, match=r"long.conllu:1: sentence .* more subwords than the encoder .* limit is 128"):
        load_script("train").main(["--task", "pos", "--encoder_name_or_path", str(bert), "--train_file",
                                   str(files["train"]),
                                   "--test_file", str(long), "--dev_size", "5", "--max_steps", "1",
                                   "--output_dir", str(tmp_path / "x")])


def test_d_reads_g_vocabulary_through_the_encoders_own_tokenizer_and_embeddings(coco_files, tmp_path):
    import torch
    from transformers import AutoModel, AutoTokenizer

    from seqgan.models.discriminator import SeqGanDiscriminator

    root, lines = coco_files
    bert = tiny_encoder(tmp_path, lines)
    words = ["a", "man", "riding", "skateboard", "[UNK]"]
    disc = SeqGanDiscriminator.from_encoder(str(bert), vocab_size=6, token_strings=words)
    table, tok = AutoModel.from_pretrained(bert).get_input_embeddings().weight, AutoTokenizer.from_pretrained(bert)
    for i, w in enumerate(words[:4]):  # the mean of the encoder's own embeddings of the word's subwords
        ids = tok(w, add_special_tokens=False)["input_ids"]
        assert torch.allclose(disc.embed.weight[i], table[ids].mean(0)), w
    assert not torch.equal(disc.embed.weight[5], disc.embed.weight[0])  # rows past the strings keep their init
    with pytest.raises(ValueError, match="cannot read G's vocabulary: 3 of 4 tokens are unknown"):
        SeqGanDiscriminator.from_encoder(str(bert), vocab_size=4, token_strings=["a", "ж", "ш", "щ"])
    # End to end: a text GAN whose D is the pretrained encoder, reading a from-scratch G's word vocabulary.

    train = load_script("train")
    args = [*TEXT_TINY, "--train_file", str(root / "train.txt"), "--test_file", str(root / "test.txt"), "--dev_size",
            "20"]
    train.main([*args, "--output_dir", str(tmp_path / "mle")])
    res = train.main([*args, "--method", "gan", "--init_from", str(tmp_path / "mle"), "--disc_name_or_path", str(bert),
                      "--adv_steps", "2", "--d_pretrain_steps", "1", "--gan_eval_every", "2", "--output_dir",
                      str(tmp_path / "gan")])
    assert 0.0 <= res["test/bleu_2"] <= 1.0
    d = SeqGanDiscriminator.from_pretrained(tmp_path / "gan" / "last" / "discriminator")
    assert d.config.encoder["model_type"] == "bert" and d.config.encoder["hidden_size"] == table.shape[1]
