"""The blacklist (黑名单, D4): accounts, persons, rooms and servers, with
their policy-list exchange with Draupnir and Mjolnir operators."""
