"""Flood and join-wave limits (B9) and credit-driven limits (D7).

- `counting.py`: pure: the sliding windows that count messages and joins.
- `mentions.py`: pure: how many users one message mentions.
- `decide.py`: pure: the event stage's decision and its refusals.
- `waves.py`: a join wave turns a group to knocking for a cool-down.
- `bands.py`: the credit bands' limits Synapse asks about (invites, uploads).
"""
