"""seqgan: structured-output GANs over discrete sequences.

Importing the package registers seqgan's own model classes with transformers' Auto classes, so
`AutoModel.from_pretrained(folder)` loads them without `trust_remote_code`.
"""

from seqgan.generator import CausalGenerator, Generator, Samples
from seqgan.oracle import OracleLSTM
from seqgan.tagger import SeqGanTagger, SeqGanTaggerConfig, TaggerGenerator

__version__ = "0.1.0"
__all__ = ["CausalGenerator", "Generator", "Samples", "OracleLSTM", "SeqGanTagger", "SeqGanTaggerConfig",
           "TaggerGenerator"]
