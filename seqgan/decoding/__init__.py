"""G + D decoding: reranking G's candidates by D (pos) and sampling by D's density ratio (text, oracle)."""
