"""corpora stage."""
