"""What every script shares at its edges: strict option parsing and errors without tracebacks.

    parser = make_parser(MyArguments)                  # allow_abbrev off, one help group per dataclass
    (args,) = parse_strict(parser, argv)               # an unknown flag: one line, "did you mean", exit 2
    if __name__ == "__main__":
        run(main)                                      # a data or configuration error: one line, exit 1

`run` prints a user error (bad data, bad options, a missing file) as one `error: ...` line; set
SEQGAN_DEBUG=1 or pass --debug to see the traceback instead.
"""

from __future__ import annotations

import difflib
import os
import sys
import warnings
from dataclasses import asdict
from typing import Callable

from transformers import HfArgumentParser


class NonFiniteError(RuntimeError):
    """Training stopped: too many non-finite losses or gradients in a row."""


USER_ERRORS = (ValueError, OSError, NonFiniteError)

# The output flags follow one convention: --output_dir for a folder, --output_file for a file. A script that once
# took --output still reads it, with a FutureWarning.
OUTPUT_RENAMED = {"--output": "--output_file"}


def make_parser(dataclass_types, **kwargs) -> HfArgumentParser:
    """HfArgumentParser without prefix matching (`--num_train_epoch` is an error, not `--num_train_epochs`)."""
    return HfArgumentParser(dataclass_types, allow_abbrev=False, **kwargs)


def warn_renamed(old: str, new: str) -> None:
    """The FutureWarning of an old option name (a flag, or its key in a config file) that still works."""
    warnings.warn(f"{old} is deprecated and will be removed in seqgan 0.4: use {new} (the Hugging Face name).",
                  FutureWarning, stacklevel=4)


def renamed_flags(argv: list[str], renamed: dict[str, str]) -> list[str]:
    """argv with each old flag name (`renamed`: old -> new) replaced by its new one; each old name used warns
    (FutureWarning) saying what to write instead."""
    out = []
    for arg in argv:
        flag, eq, value = arg.partition("=")
        if flag in renamed:
            warn_renamed(flag, renamed[flag])
            arg = renamed[flag] + eq + value
        out.append(arg)
    return out


def parse_strict(parser: HfArgumentParser, argv: list[str] | None, renamed: dict[str, str] | None = None) -> tuple:
    """The parser's dataclasses; unknown options end in one line with a suggestion, and exit status 2. Not
    argparse's error(), which prints the usage first: with every option of every group, that is 80 lines above the
    one that matters. `renamed` (old -> new flag) keeps old names working, with a warning."""
    if renamed:
        argv = renamed_flags(list(sys.argv[1:] if argv is None else argv), renamed)
    *configs, rest = parser.parse_args_into_dataclasses(args=argv, return_remaining_strings=True)
    if rest:
        known = [s for a in parser._actions for s in a.option_strings]
        flags = [r for r in rest if r.startswith("-")] or rest  # an unknown flag's value is left over too
        hints = []
        for r in flags:
            close = difflib.get_close_matches(r.split("=")[0], known, n=1) if r.startswith("-") else []
            hints.append(r + (f" (did you mean {close[0]}?)" if close else ""))
        parser.exit(2,
                    f"{parser.prog}: error: unrecognized arguments: {', '.join(hints)}; --help lists the options.\n")
    return tuple(configs)


def run(main: Callable) -> None:
    """Run a script's main(): user errors become one line on stderr and exit status 1."""
    debug = bool(os.environ.get("SEQGAN_DEBUG")) or "--debug" in sys.argv
    if "--debug" in sys.argv:
        sys.argv.remove("--debug")
    try:
        main()
    except USER_ERRORS as e:
        if debug:
            raise
        print(f"error: {e}\n(SEQGAN_DEBUG=1 or --debug shows the traceback)", file=sys.stderr)
        sys.exit(1)


def cpu_threads(env, cores: int, local_processes: int) -> int | None:
    """Threads for torch on CPU, or None to leave torch's own setting. SEQGAN_NUM_THREADS wins; then a user's
    OMP_NUM_THREADS is respected. `accelerate launch` always exports OMP_NUM_THREADS (1 unless told otherwise,
    which on a CPU run would idle all cores but one), so under it a value of 1 is taken as accelerate's, not
    the user's: the cores are shared among the local processes instead (set SEQGAN_NUM_THREADS=1 to force 1)."""
    if env.get("SEQGAN_NUM_THREADS"):
        return int(env["SEQGAN_NUM_THREADS"])
    launched = "ACCELERATE_DYNAMO_BACKEND" in env or "ACCELERATE_MIXED_PRECISION" in env
    omp = env.get("OMP_NUM_THREADS")
    if omp and (not launched or omp != "1"):
        return None  # torch already reads OMP_NUM_THREADS at start-up
    return max(1, cores // max(local_processes, 1))


def use_cpu_threads(local_processes: int = 1) -> None:
    """Give torch cpu_threads' count when it runs on the CPU (evaluate.py, generate.py and fit_ratio.py, as train.py
    does): SEQGAN_NUM_THREADS=1 then keeps several jobs on one machine from each taking every core."""
    import torch

    if not torch.cuda.is_available():
        threads = cpu_threads(os.environ, len(os.sched_getaffinity(0)), local_processes)
        if threads is not None:
            torch.set_num_threads(threads)


BF16_INSTRUCTIONS = ("amx_bf16", "avx512_bf16")  # /proc/cpuinfo flags of the CPUs that compute bf16 natively


def cpu_bf16_support(cpuinfo: str | None = None) -> str:
    """The bf16 instruction sets this CPU offers ("amx_bf16, avx512_bf16"), "none" (bf16 matmuls are then emulated
    and slow), or "unknown" where /proc/cpuinfo cannot be read. `cpuinfo`: its text, for tests."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo") as f:
                cpuinfo = f.read()
        except OSError:
            return "unknown"
    line = next((ln for ln in cpuinfo.splitlines() if ln.startswith("flags")), None)
    if line is None:
        return "unknown"
    flags = set(line.split(":", 1)[1].split())
    return ", ".join(f for f in BF16_INSTRUCTIONS if f in flags) or "none"


def warn_slow_bf16(device_type: str, mixed_precision: str | None, support: str | None = None) -> str | None:
    """--mixed_precision bf16 on a CPU without bf16 instructions: the warning (printed once, and returned), else None.
    The cost is measured, not guessed: on an Intel Xeon with AVX-512 but no AVX512_BF16/AMX the peer-size rollout
    step took 12.50 s in bf16 against 7.23 s in fp32 (scripts/benchmark.py peer, issue 36)."""
    if device_type != "cpu" or mixed_precision != "bf16":
        return None
    support = cpu_bf16_support() if support is None else support
    if support != "none":
        return None
    msg = ("warning: --mixed_precision bf16 on a CPU without bf16 instructions (neither AVX512_BF16 nor AMX-BF16 in "
           "/proc/cpuinfo): torch emulates bf16 there, and a step was measured 1.7x slower than in fp32 (12.50 s vs "
           "7.23 s, scripts/benchmark.py peer). Drop --mixed_precision bf16 (or pass --mixed_precision no) to train "
           "in fp32.")
    print(msg, file=sys.stderr)
    return msg


def quiet_libraries() -> None:
    """Scripts print their own progress; silence library progress bars and info logs."""
    import datasets
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    datasets.disable_progress_bars()


def args_to_dict(*configs) -> dict:
    """Every option of the dataclasses `configs` in one flat dict (a run's args.json)."""
    out = {}
    for cfg in configs:
        out.update(asdict(cfg))
    return out
