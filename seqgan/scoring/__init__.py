"""Scoring: exact BLEU and every task metric, a split's evaluation, sweep plots, gaps to MLE's frontier."""
