#!/usr/bin/env python
"""Push a trained run (generator, discriminator if any, eval results and a model card) to the Hugging Face Hub.

    python scripts/push_to_hub.py --checkpoint runs/pos-mle --repo_id you/seqgan-pos-tagger
    python scripts/push_to_hub.py --checkpoint runs/text-gan-gumbel --repo_id you/coco-gan --private
    python scripts/push_to_hub.py --checkpoint runs/pos-mle --repo_id you/x --dry_run   # write + list, upload nothing

One commit (create_repo, then upload_folder). The token comes from $HF_TOKEN or the stored login
(`hf auth login`). --dry_run writes exactly the folder that would be uploaded (default
<run>/hub_upload) and lists it.
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
    repo_id: str = field(metadata={"help": "Hub repository, user/name or org/name (created if missing)."})
    private: bool = field(default=False, metadata={"help": "Create the repository as private."})
    revision: str | None = field(default=None, metadata={"help": "Branch to commit to (created if missing); default main."})
    commit_message: str | None = field(default=None, metadata={"help": "Commit message (default: 'Upload <name> with seqgan')."})
    dry_run: bool = field(default=False, metadata={"help": "Write the upload folder and list it; contact nobody."})
    dry_run_dir: str | None = field(default=None, metadata={"help": "Where --dry_run writes (default <run>/hub_upload)."})


def main(argv: list[str] | None = None) -> list[str]:
    (args,) = parse_strict(make_parser(PushArguments), argv)
    check_repo_id(args.repo_id)
    ckpt = resolve_checkpoint(args.checkpoint)
    card = task_of(read_args(ckpt), ckpt).CARD
    if args.dry_run:
        folder = stage(str(ckpt), args.dry_run_dir or run_dir(ckpt) / "hub_upload", args.repo_id, card)
        files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        print(f"dry run: would commit {len(files)} files to {args.repo_id}"
              f"{'@' + args.revision if args.revision else ''} from {folder}:", file=sys.stderr)
        print("\n".join(files))
        return files
    url = push(str(ckpt), args.repo_id, card, private=args.private, revision=args.revision, commit_message=args.commit_message)
    print(f"pushed {ckpt} to {args.repo_id}: {url}")
    return [url]


if __name__ == "__main__":
    run(main)
