"""G, D and the structured models: every model seqgan trains or samples from.

Importing this package registers each seqgan model class with transformers' Auto classes (each module registers its
own), so `AutoModel.from_pretrained(folder)` loads any seqgan part without `trust_remote_code`:

    python -c "import seqgan.models; from transformers import AutoConfig; print(AutoConfig.for_model('seqgan_tagger'))"
"""

from seqgan.models import bigram, crf_tagger, discriminator, energy_tagger, hmm, latent, tagger  # noqa: F401  (registration)
