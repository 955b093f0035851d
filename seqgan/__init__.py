"""seqgan: structured-output GANs over discrete sequences.

Importing the package registers seqgan's own model classes (tagger, CRF tagger, discriminator,
bigram model) with transformers' Auto classes, so `AutoModel.from_pretrained(folder)` loads them
without `trust_remote_code`.
"""

from seqgan.models.bigram import BigramEnergyModel, BigramGenerator
from seqgan.models.crf import LinearChainCRF
from seqgan.models.crf_tagger import CrfTaggerGenerator, SeqGanCrfTagger, SeqGanCrfTaggerConfig
from seqgan.models.discriminator import SeqGanDiscriminator, SeqGanDiscriminatorConfig
from seqgan.models.generator import CausalGenerator, Generator, Samples
from seqgan.models.oracle import OracleLSTM
from seqgan.models.tagger import SeqGanTagger, SeqGanTaggerConfig, TaggerGenerator

__version__ = "0.2.0"
__all__ = ["BigramEnergyModel", "BigramGenerator", "CausalGenerator", "CrfTaggerGenerator", "Generator",
           "LinearChainCRF", "OracleLSTM", "Samples", "SeqGanCrfTagger", "SeqGanCrfTaggerConfig", "SeqGanDiscriminator",
           "SeqGanDiscriminatorConfig", "SeqGanTagger", "SeqGanTaggerConfig", "TaggerGenerator"]
