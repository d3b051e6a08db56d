"""Read the digits in pictures: python demos/read_digit.py [IMAGE ...]

Without arguments it reads the ten sample pictures in demos/digits/ (MNIST test digits,
saved at different sizes, some as black ink on white) with the bundled model.
"""

import sys
from pathlib import Path

from microgrid.digits.predict import read_digit

paths = [Path(p) for p in sys.argv[1:]] or sorted((Path(__file__).parent / "digits").glob("*.png"))
for path in paths:
    result = read_digit(path)
    confidence = max(result.probabilities or result.activations)
    print(f"{path.name}: {result.digit}  (confidence {confidence:.2f})")
