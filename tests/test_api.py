"""seqgan.load: every method's run as one ready object (tag, sample, score), README's Python example, clear errors."""

import json
import re

import pytest
import torch
from helpers import TEXT_TINY

from conftest import ROOT, load_script, shared_data

RELEASE = ROOT / "tests" / "fixtures" / "release-0.2.0"  # a tiny run of every method, written by release 0.2.0
EXPECTED = json.loads((RELEASE / "expected.json").read_text())  # what that release decoded from each


@pytest.fixture(scope="module")
def text_mle(tmp_path_factory):
    """A seconds-long text MLE run on real captions."""
    tmp = tmp_path_factory.mktemp("api")
    lines = (shared_data("coco") / "image_coco.txt").read_text().splitlines()
    (tmp / "train.txt").write_text("\n".join(lines[:60]) + "\n")
    (tmp / "test.txt").write_text("\n".join(lines[60:70]) + "\n")
    load_script("train").main([*TEXT_TINY, "--train_file", str(tmp / "train.txt"), "--test_file",
                               str(tmp / "test.txt"),
                               "--dev_size", "10", "--output_dir", str(tmp / "text-mle")])
    return tmp / "text-mle", lines[60:70]


@pytest.mark.parametrize("method", ["mle", "gan", "crf", "hmm", "random-code", "ae", "vae", "latent-gan"])
def test_load_gives_a_run_of_every_method_ready_to_use(method):
    import seqgan

    model = seqgan.load(str(RELEASE / method))
    assert model.method == method and model.args["method"] == method
    if model.task == "pos":  # the words of the release's own inputs, as strings and as word lists
        got = model.tag(["The cat sleeps on a roof.", ["We", "like", "green", "apples", "."]])
        assert [" ".join(f"{w}/{t}" for w, t in s) for s in got] == EXPECTED[method]
        with pytest.raises(ValueError, match=r"tag\(\) is for pos runs"):
            seqgan.load(str(RELEASE / "vae")).tag(["a dog"])
    else:
        assert model.sample(3, seed=0) == EXPECTED[method]
        with pytest.raises(ValueError, match=r"sample\(\) is for text and oracle runs; this is a --task pos run"):
            seqgan.load(str(RELEASE / "mle")).sample(3)


def test_score_is_the_chain_rule_sum_of_the_language_models_own_probabilities(text_mle):
    """Against a reference computed here from the transformers model itself: log p(text) = sum over its words and
    the end token of log softmax(logits) at that word, given [BOS] and the words before; the tokens G never emits
    ([PAD], [BOS], ...) carry its -inf logit bias."""
    import seqgan

    run, texts = text_mle
    model = seqgan.load(str(run))
    gen, tok = model.generator, model.tokenizer
    ref = []
    for text in texts:
        ids = tok(text, add_special_tokens=False)["input_ids"] + [gen.eos_id]
        inputs = torch.tensor([[gen.bos_id, *ids[:-1]]])  # (1, T)
        with torch.no_grad():
            logp = (gen.model(input_ids=inputs).logits + gen.logit_bias).log_softmax(-1)[0]  # (T, V)
        ref.append(logp[torch.arange(len(ids)), torch.tensor(ids)].sum().item())
    assert model.score(texts, batch_size=4) == pytest.approx(ref, abs=1e-4)  # batched and padded alike
    assert all(s < 0 for s in ref)


def test_tag_refuses_what_it_cannot_tag_whole():
    import seqgan

    tagger = seqgan.load(str(RELEASE / "mle"))
    limit = tagger.generator.model.config.max_positions
    with pytest.raises(ValueError, match=r"sentence 1 \(0-based\): skipped: .* split it into shorter sentences"):
        tagger.tag(["A dog .", ["word"] * (limit + 1)])
    with pytest.raises(ValueError, match="sentence 0: a word is empty or holds whitespace"):
        tagger.tag([["two words", "."]])


def test_score_refuses_a_text_longer_than_the_model(text_mle):
    import seqgan

    lm = seqgan.load(str(text_mle[0]))
    with pytest.raises(ValueError, match=r"texts\[1\] has more tokens than this model's max_length"):
        lm.score(["a dog .", " ".join(["dog"] * lm.generator.max_length)])


def test_the_readme_python_example_runs(text_mle, tmp_path, monkeypatch, capsys):
    run, _ = text_mle
    code = re.search(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    assert "seqgan.load(" in code
    runs = tmp_path / "runs"
    (runs / "pos-gan-reinforce").mkdir(parents=True)
    (runs / "pos-mle").symlink_to(RELEASE / "mle")
    (runs / "pos-gan-reinforce" / "best").symlink_to(RELEASE / "gan")
    (runs / "text-mle").symlink_to(run)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "('The', " in out and "SeqGanDiscriminator" in out
