"""Watching a run: the live Rich dashboard, its state and panels, and the plain-text fallback."""
