"""A first hour without surprises, and one owner per concept: earlier runs are protected, the library never
imports the task modules and has no import loops, paths, threads, offline data, lenient input, safe loading."""

import ast
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers import CASES, POS

from conftest import ROOT, load_script
from seqgan.checkpoint import LOCK, claim_run_dir, looks_local, resolve_checkpoint
from seqgan.cli import cpu_threads
from seqgan.config import DataArguments
from seqgan.data import DataError, resolve_data_file
from seqgan.scoring.evaluation import Decoding, SplitInputs
from seqgan.tasks import get_task

TINY = ["--task", "oracle", "--hidden_size", "16", "--num_layers", "1", "--num_heads", "2", "--ffn_size", "32",
        "--dev_size", "20", "--test_size", "20", "--num_eval_samples", "10", "--num_test_samples", "10",
        "--max_steps", "2", "--eval_every", "2"]


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_a_second_run_into_a_run_folder_is_refused_without_touching_it(data_dir, tmp_path):
    out = tmp_path / "run"
    argv = [*TINY, "--data_dir", str(data_dir), "--output_dir", str(out)]
    train = load_script("train")
    train.main(argv)
    before = snapshot(out)
    assert "metrics.jsonl" in before and not (out / LOCK).exists()  # the lock is gone after the run
    with pytest.raises(FileExistsError, match="already holds a run.*--overwrite_output_dir"):
        train.main([*argv, "--num_train_epochs", "1"])
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "train.py"), *argv], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "SEQGAN_NUM_THREADS": "1"})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "already holds a run" in proc.stderr
    assert snapshot(out) == before
    # Told to, it replaces the run: a fresh log, not two interleaved ones, and no stale results of the old run.
    (out / "eval_test_greedy.json").write_text("{}")
    train.main([*argv, "--overwrite_output_dir", "--seed", "7"])
    assert not (out / "eval_test_greedy.json").exists()
    log = [json.loads(ln) for ln in (out / "metrics.jsonl").read_text().splitlines()]
    assert sum("test/nll" in r for r in log) == 1 and json.loads((out / "args.json").read_text())["seed"] == 7


def test_the_lock_refuses_a_concurrent_run_and_takes_over_a_dead_ones(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / LOCK).write_text(f"{os.getpid()}\n")  # a live process holds it
    with pytest.raises(FileExistsError, match=f"another training run \\(pid {os.getpid()}\\)"):
        claim_run_dir(out, overwrite=False, resuming=False)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout
    (out / LOCK).write_text(dead)  # left behind by a killed run
    lock = claim_run_dir(out, overwrite=False, resuming=False)
    assert lock.read_text().strip() == str(os.getpid())


def test_evaluate_does_not_replace_trainings_results_unless_told(data_dir, tmp_path):
    out = tmp_path / "run"
    load_script("train").main([*TINY, "--data_dir", str(data_dir), "--output_dir", str(out)])
    saved = (out / "eval_test.json").read_text()
    evaluate = load_script("evaluate")
    with pytest.raises(FileExistsError, match="eval_test.json already exist.*--overwrite"):
        evaluate.main(["--checkpoint", str(out)])
    assert (out / "eval_test.json").read_text() == saved
    metrics = evaluate.main(["--checkpoint", str(out), "--overwrite"])
    assert json.loads((out / "eval_test.json").read_text())["test/nll"] == metrics["test/nll"]


def seqgan_imports(path: Path) -> set[str]:
    """Every seqgan module `path` imports, at the top or inside a function (lazy imports count)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return {n for n in names if n.split(".")[0] in ("seqgan", "tasks")}


def test_the_library_never_imports_tasks_and_has_no_import_loops():
    proc = subprocess.run([sys.executable, "-c",
                           "import sys, seqgan, seqgan.config, seqgan.training.loops, seqgan.hub, "
                           "seqgan.decoding.rerank, seqgan.decoding.guide, seqgan.training.ratio, "
                           "seqgan.scoring.plots; "
                           "print(sorted(m for m in sys.modules if m == 'tasks' or m.startswith(('tasks.', "
                           "'seqgan.tasks'))))"],
                          capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
    # Every library module, in the role folders too (seqgan/models/generator.py is seqgan.models.generator).
    modules = {".".join(p.relative_to(ROOT).with_suffix("").parts): p for p in (ROOT / "seqgan").rglob("*.py")
               if p.stem != "__init__"}
    assert len(modules) > 30
    graph = {}
    for name, path in modules.items():
        deps = seqgan_imports(path)
        assert not any(d.startswith(("tasks", "seqgan.tasks")) for d in deps), f"{name} imports a task module"
        graph[name] = {d for d in deps if d in modules and d != name}

    def cycle_from(node, stack):
        for nxt in graph[node]:
            if nxt in stack:
                return stack[stack.index(nxt):] + [nxt]
            found = cycle_from(nxt, stack + [nxt])
            if found:
                return found
        return None

    for name in graph:
        loop = cycle_from(name, [name])
        assert loop is None, "import loop: " + " -> ".join(loop)


# Imports point down: a module imports only from its own layer or the layers before it. The packages' __init__ files
# are not layered: seqgan's imports nothing, seqgan.models' registers the model classes with transformers.
LAYERS = [
    ("seqgan.cli", "seqgan.data", "seqgan.vocab", "seqgan.sources", "seqgan.config", "seqgan.usage", "seqgan.parallel",
     "seqgan.conllu", "seqgan.segmentation"),
    ("seqgan.scoring",),                         # metrics, BLEU, protocols, significance, plots
    ("seqgan.models",),                          # G, D, CRF, HMM, latent models
    # loading runs; decoding with G and D; LM tasks' parts
    ("seqgan.checkpoint", "seqgan.decoding", "seqgan.language_model"),
    ("seqgan.training",),                        # losses, bridges, loops, the method registry
    ("seqgan.hub",),                             # sharing runs
]


def layer_of(module: str) -> int:
    for i, names in enumerate(LAYERS):
        if any(module == n or module.startswith(n + ".") for n in names):
            return i
    raise AssertionError(f"{module} has no layer in LAYERS; add it where it belongs.")


def test_library_imports_point_down_the_layers():
    modules = {".".join(p.relative_to(ROOT).with_suffix("").parts): p for p in (ROOT / "seqgan").rglob("*.py")
               if p.stem != "__init__"}
    upward = [f"{name} (layer {layer_of(name)}) imports {dep} (layer {layer_of(dep)})"
              for name, path in sorted(modules.items()) for dep in sorted(seqgan_imports(path))
              if dep in modules and layer_of(dep) > layer_of(name)]
    assert not upward, "imports point up:\n" + "\n".join(upward)
    # The reference rollouts are what the cached ones are tested and timed against: the library never runs them.
    assert not [n for n, p in modules.items()
                if any(d.startswith("seqgan.training.reference_rollouts") for d in seqgan_imports(p))]
    # Tasks sit above the library and beside each other: what two tasks share lives in the library.
    tasks = {p.stem for p in (ROOT / "tasks").glob("*.py") if p.stem != "__init__"}
    # One known exception, a debt: segment's models are pos's tagger and CRF reading characters (tasks/segment.py), and
    # it borrows them from tasks/pos.py instead of a library module both would share.
    debt = {("segment", "seqgan.tasks.pos")}
    sideways = [f"tasks/{t}.py imports {dep}" for t in sorted(tasks)
                for dep in seqgan_imports(ROOT / "tasks" / f"{t}.py")
                if (dep.split(".")[:3] in [["seqgan", "tasks", u] for u in tasks]
                    or dep.split(".")[:2] in [["tasks", u] for u in tasks])
                and (t, ".".join(dep.split(".")[:3])) not in debt]
    assert not sideways, "tasks import each other:\n" + "\n".join(sideways)
    # --help and every option check need the options alone: seqgan.config imports nothing of the library's layers
    # above it, and the help page (seqgan.usage) nothing of seqgan at all.
    assert seqgan_imports(modules["seqgan.config"]) <= {"seqgan.cli", "seqgan.cli.make_parser",
                                                        "seqgan.cli.parse_strict", "seqgan.cli.renamed_flags",
                                                        "seqgan.cli.warn_renamed",
                                                        "seqgan.usage", "seqgan.usage.run_help"}
    assert not seqgan_imports(modules["seqgan.usage"])


def test_importing_the_options_loads_no_model_or_training_code():
    # In a fresh interpreter (this one has imported everything): the package's own __init__ imports nothing either.
    code = ("import sys, seqgan.config; print(sorted(m for m in sys.modules if m.startswith(('seqgan.models', "
            "'seqgan.training', 'seqgan.scoring', 'seqgan.decoding'))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert proc.stdout.strip() == "[]"
    # What the package used to do on import now happens on `import seqgan.models`, and seqgan.<Name> still works.
    code = ("import seqgan.models, seqgan; from transformers import AutoConfig; "
            "print(*[type(AutoConfig.for_model(t)).__name__ for t in ('seqgan_tagger', 'seqgan_crf_tagger', "
            "'seqgan_discriminator', 'seqgan_hmm_tagger', 'seqgan_latent', 'seqgan_bigram')], "
            "seqgan.TaggerGenerator.__name__)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert proc.stdout.split() == ["SeqGanTaggerConfig", "SeqGanCrfTaggerConfig", "SeqGanDiscriminatorConfig",
                                   "SeqGanHmmTaggerConfig", "SeqGanLatentConfig", "BigramEnergyConfig",
                                   "TaggerGenerator"]


def test_no_top_level_tasks_or_scripts_package_is_installed():
    proc = subprocess.run([sys.executable, "-c",
                           "import importlib.util as u; print(u.find_spec('tasks'), u.find_spec('scripts'), "
                           "u.find_spec('seqgan.tasks').origin, u.find_spec('seqgan.scripts').origin)"],
                          capture_output=True, text=True, check=True, cwd="/")
    none, none2, origin, origin2 = proc.stdout.split()
    assert none == none2 == "None"
    assert origin == str(ROOT / "tasks" / "__init__.py") and origin2 == str(ROOT / "scripts" / "__init__.py")


def test_installing_puts_only_project_named_commands_on_path():
    """Each script has a seqgan-<name> command that runs its cli(); no generic script file (train.py, evaluate.py)
    is installed beside the interpreter, and no top-level `scripts` package exists."""
    from importlib.metadata import distribution

    dist = distribution("seqgan")
    commands = {e.name: e for e in dist.entry_points if e.group == "console_scripts"}
    scripts = {p.stem for p in (ROOT / "scripts").glob("*.py") if p.stem != "__init__"}
    assert len(scripts) >= 10 and set(commands) == {"seqgan-" + s.replace("_", "-") for s in scripts}
    assert all(e.value == f"seqgan.scripts.{e.name[7:].replace('-', '_')}:cli" for e in commands.values())
    bin_dir = Path(sys.executable).parent
    assert not [s for s in scripts if (bin_dir / f"{s}.py").exists()]
    # The installed command runs the script: a typo gets the one-line error under the command's own name.
    proc = subprocess.run([str(bin_dir / "seqgan-train"), "--task", "pos", "--learning_rte", "0.1"],
                          capture_output=True,
                          text=True, timeout=300, cwd="/")
    assert proc.returncode == 2 and proc.stderr.startswith("seqgan-train: error: unrecognized arguments: "
                                                           "--learning_rte")


def test_threads_respect_the_users_setting():
    launched = {"ACCELERATE_MIXED_PRECISION": "no"}
    assert cpu_threads({}, 8, 1) == 8 and cpu_threads({}, 8, 2) == 4  # nothing set: share the cores
    assert cpu_threads({"OMP_NUM_THREADS": "1"}, 8, 1) is None  # the user's own setting stands
    assert cpu_threads({**launched, "OMP_NUM_THREADS": "3"}, 8, 1) is None
    assert cpu_threads({**launched, "OMP_NUM_THREADS": "1"}, 8, 2) == 4  # accelerate launch's pinned default
    assert cpu_threads({**launched, "OMP_NUM_THREADS": "1", "SEQGAN_NUM_THREADS": "1"}, 8, 1) == 1


def test_a_mistyped_local_path_is_never_fetched_from_the_hub(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    for name in ("runs/does-not-exist", "./model", "a/b/c", "~/nothing-here"):
        assert looks_local(name)
        with pytest.raises(FileNotFoundError, match="no such folder \\(a local path, so the Hub was not asked\\)"):
            resolve_checkpoint(name)
    assert not looks_local("someone/some-model")


def test_offline_data_goes_straight_to_the_message(tmp_path, monkeypatch):
    monkeypatch.delenv("SEQGAN_DATA_DIR", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="HF_HUB_OFFLINE=1: no download tried.*--data_dir"):
        resolve_data_file("coco/test_coco.txt", str(tmp_path), url="http://127.0.0.1:9/never-asked.txt")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="HF_DATASETS_OFFLINE=1: no download tried"):
        resolve_data_file("coco/test_coco.txt", str(tmp_path), url="http://127.0.0.1:9/never-asked.txt")


CONLLU = "1\tThe\tthe\tDET\t_\t_\t2\tdet\t_\t_\n2\tdog\tdog\tNOUN\t_\t_\t0\troot\t_\t_\n\n"


def test_a_byte_order_mark_and_trailing_blank_lines_are_read(tmp_path):
    f = tmp_path / "bom.conllu"
    f.write_bytes(b"\xef\xbb\xbf" + CONLLU.encode())
    assert get_task("pos").read_conllu(f)[0]["words"] == ["The", "dog"]
    t = tmp_path / "bom.txt"
    t.write_bytes(b"\xef\xbb\xbfa dog\na cat\n\n\n")
    assert [r["text"] for r in get_task("text").read_sentences(t)] == ["a dog", "a cat"]
    t.write_text("a dog\n\na cat\n")  # inside the file an empty line is still an error
    with pytest.raises(DataError, match=":2: empty line"):
        get_task("text").read_sentences(t)


def test_check_data_and_training_apply_the_same_length_rules(tmp_path, capsys):
    """A long line in the training file: check_data warns, and training truncates it wherever it lands (train, or the
    dev split carved from that file). A long line in the test file: both refuse it."""

    from seqgan.scoring.evaluation import encode_splits

    task, tok, gen, _ = CASES["text"]()  # max_length 12
    coco = tmp_path / "coco"
    coco.mkdir()
    lines = ["a dog on a bike ."] * 9 + [" ".join(["dog"] * 30)]
    (coco / "image_coco.txt").write_text("\n".join(lines) + "\n\n")  # a trailing blank line too
    (coco / "test_coco.txt").write_text("a cat .\n")
    check = load_script("check_data").main
    assert check(["--task", "text", "--max_length", "12", str(coco / "image_coco.txt"),
                  "--eval_file", str(coco / "test_coco.txt")]) == 0
    assert "sequence of 31 exceeds --max_length 12 (training truncates it)" in capsys.readouterr().out
    for seed in range(6):  # the long line lands in dev for some seeds, in train for others: always truncated
        data = DataArguments(task="text", data_dir=str(tmp_path), dev_size=3, data_seed=seed, max_length=12)
        enc = encode_splits(task, task.load_splits(data), tok, gen, "truncate")
        assert max(len(x) for k in ("train", "dev") for x in enc[k]["labels"]) == 12
    (coco / "test_coco.txt").write_text(" ".join(["cat"] * 30) + "\n")
    assert check(["--task", "text", "--max_length", "12", "--eval_file", str(coco / "test_coco.txt")]) == 1
    assert "test_coco.txt:1: sequence of 31 exceeds --max_length 12; raise --max_length." in capsys.readouterr().out
    with pytest.raises(DataError, match="test_coco.txt:1: line has 31 tokens"):
        encode_splits(task, task.load_splits(data), tok, gen, "truncate")


def test_copy_rate_counts_the_whole_training_file(data_dir, monkeypatch):
    """text's copy rate is measured against all of image_coco.txt, the 500 dev lines carved from it included."""

    task, tok, gen, _ = CASES["text"]()
    splits = task.load_splits(DataArguments(task="text", data_dir=str(data_dir)))
    seen = {}

    def capture(samples, references=None, train=None, **kw):
        seen["train"] = train
        return {"test_bleu": {}, "self_bleu": {}}

    monkeypatch.setattr(task, "text_metrics", capture)
    monkeypatch.setattr(task, "teacher_forced_nll", lambda *a, **k: {"nll": 1.0, "num_tokens": 1})
    task.evaluate(gen, tok,
                  SplitInputs(None, None, splits["dev"], splits, DataArguments(task="text", num_eval_samples=2), 0))
    assert len(seen["train"]) == 10000 == len(splits["train"]) + len(splits["dev"])


def test_pickled_weights_are_refused_with_the_fix(tmp_path):
    from transformers import AutoModel, BertConfig, BertModel

    from seqgan.models.discriminator import SeqGanDiscriminator
    from seqgan.models.pretrained import load_pretrained

    bert = BertModel(BertConfig(vocab_size=30, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                intermediate_size=32))
    bert.config.save_pretrained(tmp_path / "bin")
    torch.save(bert.state_dict(), tmp_path / "bin" / "pytorch_model.bin")  # a .bin-only (pickled) checkpoint
    with pytest.raises(FileNotFoundError, match="no safetensors weights.*never loads pickled"):
        load_pretrained(AutoModel, str(tmp_path / "bin"))
    with pytest.raises(FileNotFoundError, match="no safetensors weights"):
        SeqGanDiscriminator.from_encoder(str(tmp_path / "bin"), vocab_size=5)
    bert.save_pretrained(tmp_path / "safe")
    disc = SeqGanDiscriminator.from_encoder(str(tmp_path / "safe"), vocab_size=5)
    assert torch.equal(disc.encoder.encoder.layer[0].output.dense.weight, bert.encoder.layer[0].output.dense.weight)


def test_pos_and_rerank_results_record_their_seeds():
    from accelerate import Accelerator
    from datasets import Dataset

    from seqgan.decoding.rerank import Reranker
    from seqgan.scoring.evaluation import eval_loader

    task, tok, gen, _ = CASES["pos"]()
    acc = Accelerator(cpu=True)
    enc = task.encode(Dataset.from_list(POS), tok, gen)
    loader = eval_loader(enc, task.collator(tok), 8, acc)
    rerank = Reranker(score=lambda batch, tags, mask: torch.zeros(len(tags)), num_candidates=2, seed=7, source="x")
    m = task.evaluate(gen, tok, SplitInputs(loader, acc, enc, {"train": enc}, DataArguments(task="pos"), 3),
                      Decoding(rerank=rerank))
    assert (m["sample_seed"], m["rerank_seed"], m["num_candidates"]) == (3, 7, 2)


RELEASE = ROOT / "tests" / "fixtures" / "release-0.2.0"


@pytest.mark.parametrize("method", ["mle", "crf", "hmm", "gan", "random-code", "ae", "vae", "latent-gan"])
def test_a_checkpoint_of_every_method_from_release_0_2_0_loads_and_decodes_as_it_did(method):
    # Tiny runs of release 0.2.0 (commit 9d57569) on the hand-written files beside them (tests/fixtures/tiny-*), with
    # what that release's code decoded from them (expected.json): the current code must load and decode them alike.
    from seqgan.checkpoint import load_checkpoint, load_discriminator

    folder = RELEASE / method
    task = get_task(json.loads((folder / "args.json").read_text())["task"])
    gen, tok, args = load_checkpoint(str(folder), task)
    assert args["method"] == method
    if args["task"] == "pos":
        got = task.tag_sentences(gen, tok, ["The cat sleeps on a roof .", "We like green apples ."])
    else:
        got = task.sample_texts(gen, tok, 3, seed=0)
    assert got == json.loads((RELEASE / "expected.json").read_text())[method]
    if method == "gan":
        assert load_discriminator(str(folder)).config.vocab_size == gen.vocab_size


def test_no_function_takes_more_than_8_parameters_unless_its_docstring_says_why():
    # A wide contract is a reader's cost: past 8 parameters the docstring must say why (it names the count or, for a
    # transformers config, that each field is a keyword).
    import ast

    wide = []
    for path in [*(ROOT / "seqgan").rglob("*.py"), *(ROOT / "tasks").glob("*.py"), *(ROOT / "scripts").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            a = node.args
            names = [x.arg for x in [*a.posonlyargs, *a.args,
                                     *a.kwonlyargs]] + [x.arg for x in (a.vararg, a.kwarg) if x]
            n = len([x for x in names if x not in ("self", "cls")])
            doc = ast.get_docstring(node) or ""
            if n > 8 and not ("parameters" in doc.lower() or "config takes each of its fields" in doc):
                wide.append(f"{path.relative_to(ROOT)}::{node.name} ({n} parameters)")
    assert not wide, "functions wider than 8 parameters without a reason in their docstring:\n" + "\n".join(wide)
