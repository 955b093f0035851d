"""Training: MLE/CRF and adversarial loops, GAN losses and bridges, rollouts, the density-ratio D's fit, resume and
the run recorder."""
