"""Sanctions on rooms and users, their statements of reasons, automatic
consequences and emergency measures (D2, D3, D5, D6)."""
