"""Testing helpers: public Hypothesis strategies and slow loop-based reference twins."""
