"""The command-line scripts, installed as seqgan.scripts so that each has a project-named command on PATH
(pyproject.toml [project.scripts]): seqgan-train runs scripts/train.py's cli(), and so on. Run them either way:

    seqgan-train --task pos --help
    accelerate launch scripts/train.py --task pos
"""
