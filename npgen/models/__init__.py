"""Models: VAE and GAN wiring and their training steps (manual backprop chains)."""
