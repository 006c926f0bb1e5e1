"""Hand-made hostile inputs, each one that once took seconds to minutes or crashed something (issue 11).

Kept as code rather than files: each is a short pattern repeated up to 100 kB.
"""

KB = 1024

HOSTILE_TEXTS = [
    "![a](" * (20 * KB // 5),  # the course's image regex backtracks cubically on unclosed images
    "![" * (50 * KB // 2),
    "![a]" * (25 * KB // 4),
    "1. " * 500,  # Python-Markdown recursion: RecursionError, then a poisoned parser
    "> " * 2000 + "deep",
    "- " * 1000 + "x",
    "[" * (30 * KB),  # Python-Markdown is superlinear on unbalanced brackets
    "[a](" * (20 * KB // 4),
    "### " + "x " * (50 * KB),  # a long heading line (quadratic heading pattern)
    "#" * (100 * KB),
    "Answer:" * (100 * KB // 7),
    "### Question 1\n> Answer:\n" * 4000,
    "*_" * (50 * KB),
    "`" * (100 * KB),
    "<" * (100 * KB),
    "x" * (100 * KB),
    "\n" * (100 * KB),
]
