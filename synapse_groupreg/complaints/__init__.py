"""The complaint channel (E1-E4): cases from every kind of report, the
admins' workflow with deadlines, decisions that apply sanctions, appeals.

- `model.py`: the pure rules (state machine, deadlines, intake, marks).
- `service.py`: intake, the queue, assignment, closing, appeals.
- `decisions.py`: deciding, applying sanctions, telling reporters.
- `sanctions.py`: what decisions need of the sanctions concern.
- `texts.py`: the outcome notices in each language.
"""
