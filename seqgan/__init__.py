"""seqgan: structured-output GANs over discrete sequences.

Importing the package registers seqgan's own model classes (tagger, CRF tagger, discriminator,
bigram model) with transformers' Auto classes, so `AutoModel.from_pretrained(folder)` loads them
without `trust_remote_code`.
"""

from seqgan.bigram import BigramEnergyModel, BigramGenerator
from seqgan.crf import LinearChainCRF
from seqgan.crf_tagger import CrfTaggerGenerator, SeqGanCrfTagger, SeqGanCrfTaggerConfig
from seqgan.discriminator import SeqGanDiscriminator, SeqGanDiscriminatorConfig
from seqgan.generator import CausalGenerator, Generator, Samples
from seqgan.oracle import OracleLSTM
from seqgan.tagger import SeqGanTagger, SeqGanTaggerConfig, TaggerGenerator

__version__ = "0.2.0"
__all__ = ["BigramEnergyModel", "BigramGenerator", "CausalGenerator", "CrfTaggerGenerator", "Generator",
           "LinearChainCRF", "OracleLSTM", "Samples", "SeqGanCrfTagger", "SeqGanCrfTaggerConfig", "SeqGanDiscriminator",
           "SeqGanDiscriminatorConfig", "SeqGanTagger", "SeqGanTaggerConfig", "TaggerGenerator"]
