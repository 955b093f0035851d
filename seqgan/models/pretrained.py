"""Loading weights that seqgan did not write itself: safetensors only, never remote code unless asked.

    from seqgan.models.pretrained import load_pretrained
    lm = load_pretrained(AutoModelForCausalLM, "gpt2")     # a Hub id or a local folder

A pickled `pytorch_model.bin` can run arbitrary code when unpickled, so it is refused with the
one-line conversion to do where the file is trusted.
"""

from __future__ import annotations


def load_pretrained(auto_class, name_or_path, **kwargs):
    """`auto_class.from_pretrained` for third-party weights: safetensors only (a pickled .bin is never loaded,
    since unpickling runs code) and no remote code unless the caller passes trust_remote_code=True."""
    try:
        return auto_class.from_pretrained(name_or_path, use_safetensors=True, **kwargs)
    except OSError as e:
        if "safetensors" not in str(e).lower() and "model.safetensors" not in str(e):
            raise
        raise FileNotFoundError(f"{name_or_path}: no safetensors weights (model.safetensors). seqgan never loads "
                                "pickled "
                                "weights (pytorch_model.bin), since unpickling an untrusted file can run code. "
                                "Convert it "
                                "once where you trust it: `AutoModel.from_pretrained(path).save_pretrained(path)` "
                                "writes safetensors.") from e
