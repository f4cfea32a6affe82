"""Governing the governors: module roles (G7), four-eyes identity reveal
(A6) and signed audit checkpoints (F1)."""
