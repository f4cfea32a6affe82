"""Timed mutes (B8): the group admins' and platform moderators' tool to
silence a member, or the whole group, for a while.

- `model.py`: the pure rules (durations, who may mute whom, the index).
- `service.py`: muting, lifting, statements, audit.
- `commands.py`: the same from Element, typed in the room.
"""
