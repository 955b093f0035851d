"""G, D and the structured models: every model seqgan trains or samples from."""
