"""Support for the engine, not the engine itself: read these after engine, ops and autodiff.

- :mod:`.atomic`: file writes that never leave half a file (temp file, then rename);
- :mod:`.expr`: a safe parser of small expressions such as "tanh(w*x + b)";
- :mod:`.toys`: tiny data sets (XOR, two moons);
- :mod:`.chain`: the notes' one-neuron chain, built and backpropagated;
- :mod:`.gradcheck`: derivatives checked against central differences;
- :mod:`.testing`: hypothesis strategies for property tests (imports hypothesis).
"""
