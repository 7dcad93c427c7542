#!/usr/bin/python3
"""old_name_collision: two API URLs that cftoken's old 32-bit API name confused.

  old_name_collision.py A_PREFIX A_SUFFIX B_PREFIX

Prints two lines, A = A_PREFIX + XXX + A_SUFFIX and B = B_PREFIX + YYYY, whose
old names are equal.  The old name (lib/core/fingerprint.c before issue 19) was the
first 8 hex digits of a 64-bit FNV-1a over the URL's length (8 bytes, little
endian) and its bytes.  Both URLs vary, so this is a birthday search: about
2^17 candidates of A in a table, then some 2^15 of B; a second on one core.
"""

import itertools
import string
import sys

OFFSET = 0xCBF29CE484222325
PRIME = 0x100000001B3
MASK = (1 << 64) - 1
ALPHABET = (string.ascii_letters + string.digits).encode()


def feed(state, data):
    for byte in data:
        state = ((state ^ byte) * PRIME) & MASK
    return state


def old_name(url):
    data = url.encode()
    return "%08x" % (feed(feed(OFFSET, len(data).to_bytes(8, "little")), data) >> 32)


def main(argv):
    a_prefix, a_suffix, b_prefix = (s.encode() for s in argv[1:4])
    a_len = len(a_prefix) + 3 + len(a_suffix)
    start = feed(feed(OFFSET, a_len.to_bytes(8, "little")), a_prefix)
    table = {}
    for x1 in ALPHABET:
        s1 = ((start ^ x1) * PRIME) & MASK
        for x2 in ALPHABET:
            s2 = ((s1 ^ x2) * PRIME) & MASK
            for x3 in ALPHABET:
                s3 = ((s2 ^ x3) * PRIME) & MASK
                table[feed(s3, a_suffix) >> 32] = bytes((x1, x2, x3))
    b_start = feed(feed(OFFSET, (len(b_prefix) + 4).to_bytes(8, "little")), b_prefix)
    for y in itertools.product(ALPHABET, repeat=4):
        top = feed(b_start, y) >> 32
        if top in table:
            a = (a_prefix + table[top] + a_suffix).decode()
            b = (b_prefix + bytes(y)).decode()
            assert old_name(a) == old_name(b) and a != b
            print(a)
            print(b)
            return 0
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
