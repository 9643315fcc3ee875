"""What keying the prefix hashes with the pool's secret costs: ``python -m bench.prefix_keying``.

Hashes the blocks of a 200 KB prompt that the prefix scorers hash (256 blocks: 64-byte
text blocks for the approximate index, 16-token blocks for the precise one) with gie's
keyed BLAKE2b and, side by side, with the unkeyed xxhash chains gie used before, and
prints the median CPU time per prompt of several rounds (min and max beside it).
"""
