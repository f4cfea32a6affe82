"""Link lists (C8): the hosts of the links in what users publish, found and
normalised (`normalise`), matched against per-category domain deny lists
and a class's allow list (`lists`)."""
