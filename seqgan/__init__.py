"""seqgan: structured-output GANs over discrete sequences.

The package itself imports nothing, so `--help` and option parsing (seqgan.config) load no model or training code.
`import seqgan.models` registers seqgan's own model classes (tagger, CRF tagger, energy tagger, HMM, discriminator,
bigram and latent models) with transformers' Auto classes, so `AutoModel.from_pretrained(folder)` loads them without
`trust_remote_code`; every seqgan loader (seqgan.checkpoint, the tasks) imports them itself. The classes below are
also reachable as `seqgan.<Name>`, imported on first use, and so is `seqgan.load` (tasks/api.py): a trained run of
any method, ready to tag, sample or score.

    python -c "import seqgan.models; from transformers import AutoModel; \
        print(AutoModel.from_pretrained('runs/pos-mle/best/generator'))"
"""

from importlib import import_module

__version__ = "0.3.0"
# seqgan.<Name> -> the module that defines it (PEP 562: imported when first asked for, not with the package).
_EXPORTS = {
    "BigramEnergyModel": "seqgan.models.bigram", "BigramGenerator": "seqgan.models.bigram",
    "LinearChainCRF": "seqgan.models.crf", "CrfTaggerGenerator": "seqgan.models.crf_tagger",
    "SeqGanCrfTagger": "seqgan.models.crf_tagger", "SeqGanCrfTaggerConfig": "seqgan.models.crf_tagger",
    "EnergyTaggerGenerator": "seqgan.models.energy_tagger", "SeqGanEnergyTagger": "seqgan.models.energy_tagger",
    "SeqGanEnergyTaggerConfig": "seqgan.models.energy_tagger",
    "SeqGanDiscriminator": "seqgan.models.discriminator", "SeqGanDiscriminatorConfig": "seqgan.models.discriminator",
    "CausalGenerator": "seqgan.models.generator", "Generator": "seqgan.models.generator",
    "Samples": "seqgan.models.generator", "OracleLSTM": "seqgan.models.oracle", "SeqGanTagger": "seqgan.models.tagger",
    "SeqGanTaggerConfig": "seqgan.models.tagger", "TaggerGenerator": "seqgan.models.tagger",
    "load": "seqgan.tasks.api",  # a trained run of any method, ready to tag, sample or score (tasks/api.py)
    "load_pipeline": "seqgan.tasks.pipeline",  # a segment run + a pos run: raw text to CoNLL-U (tasks/pipeline.py)
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'seqgan' has no attribute {name!r}")
