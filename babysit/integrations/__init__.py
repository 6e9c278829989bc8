"""Callbacks that put babysit's Monitor into other trainers (each needs its framework's extra)."""
