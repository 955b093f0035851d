#!/usr/bin/env python
"""Push a trained run (generator, discriminator if any, eval results and a model card) to the Hugging Face Hub.

    python scripts/push_to_hub.py --checkpoint runs/pos-mle --hub_model_id you/seqgan-pos-tagger
    python scripts/push_to_hub.py --checkpoint runs/text-gan-gumbel --hub_model_id you/coco-gan --hub_private
    python scripts/push_to_hub.py --checkpoint runs/pos-mle --hub_model_id you/x --dry_run   # stage, upload nothing
    python scripts/push_to_hub.py --checkpoint runs/segment/ewt-seg-mle-seed42 --tagger runs/segment/ewt-pos-mle \
        --hub_model_id you/seqgan-en-raw-text --dry_run     # segmenter + tagger: one raw-text pipeline

One commit (create_repo, then upload_folder). The token comes from $HF_TOKEN or the stored login
(`hf auth login`). --dry_run writes exactly the folder that would be uploaded (default
<run>/hub_upload) and lists it. The options are named as train.py's --push_to_hub options (and transformers'):
--repo_id and --private, their names before 0.3, still work and warn.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from seqgan.checkpoint import read_args, resolve_checkpoint, run_dir
from seqgan.cli import make_parser, parse_strict, run
from seqgan.hub import check_repo_id, push, stage
from seqgan.tasks import task_of


@dataclass
class PushArguments:
    checkpoint: str = field(metadata={"help": "Run folder (its best/ is pushed) or checkpoint folder (best/, last/)."})
    hub_model_id: str = field(metadata={"help": "Hub repository, user/name or org/name (created if missing)."})
    hub_private: bool = field(default=False, metadata={"help": "Create the repository as private."})
    revision: str | None = field(default=None,
                                 metadata={"help": "Branch to commit to (created if missing); default main."})
    commit_message: str | None = field(default=None,
                                       metadata={"help": "Commit message (default: 'Upload <name> with seqgan')."})
    dry_run: bool = field(default=False, metadata={"help": "Write the upload folder and list it; contact nobody."})
    dry_run_dir: str | None = field(default=None,
                                    metadata={"help": "Where --dry_run writes (default <run>/hub_upload)."})
    tagger: str | None = field(default=None, metadata={
        "help": "A segment run only: the pos run to push with it (in tagger/), one raw-text pipeline whose card shows "
                "the segment run's eval_raw_*.json figures."})

RENAMED = {"--repo_id": "--hub_model_id", "--private": "--hub_private"}  # their names before 0.3 (deprecated)


def main(argv: list[str] | None = None) -> list[str]:
    (args,) = parse_strict(make_parser(PushArguments), argv, renamed=RENAMED)
    check_repo_id(args.hub_model_id)
    ckpt = resolve_checkpoint(args.checkpoint)
    card = task_of(read_args(ckpt), ckpt).CARD
    if args.dry_run:
        folder = stage(str(ckpt), args.dry_run_dir or run_dir(ckpt) / "hub_upload", args.hub_model_id, card,
                       tagger=args.tagger)
        files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        print(f"dry run: would commit {len(files)} files to {args.hub_model_id}"
              f"{'@' + args.revision if args.revision else ''} from {folder}:", file=sys.stderr)
        print("\n".join(files))
        return files
    url = push(str(ckpt), args.hub_model_id, card, private=args.hub_private, revision=args.revision,
               commit_message=args.commit_message, tagger=args.tagger)
    print(f"pushed {ckpt} to {args.hub_model_id}: {url}")
    return [url]


def cli() -> None:
    """The seqgan-push-to-hub command (pyproject.toml [project.scripts]); `python scripts/push_to_hub.py` runs the
    same."""
    run(main)


if __name__ == "__main__":
    cli()
