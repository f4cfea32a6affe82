"""Media lists (C7): SHA-256 digests of files and perceptual hashes of
images, per category, checked on every file Synapse stores.

`hashing` computes both hashes of a file (pure, Pillow for images);
`index` finds a listed perceptual hash within a Hamming distance among
100k in well under a millisecond; `lists` builds what each process holds
from the stored lists; `check` is the decision on one file.
"""
