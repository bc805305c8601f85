"""Statistics over images and subjects: bootstrap intervals, permutation tests, effect sizes."""
