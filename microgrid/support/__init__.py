"""Support for the engine, not the engine itself: read these after engine, ops and autodiff.

- :mod:`.graph_pickle`: how a Value graph of any depth pickles (registered with copyreg);
- :mod:`.atomic`: file writes that never leave half a file (temp file, then rename);
- :mod:`.expr`: a safe parser of small expressions such as "tanh(w*x + b)";
- :mod:`.toys`: tiny data sets (XOR, two moons);
- :mod:`.chain`: the notes' one-neuron chain, built and backpropagated;
- :mod:`.weight_chain`, :mod:`.toy_curvature`, :mod:`.mistakes`: what the live views compute
  on the scalar engine (one weight's chain rule, the toy's curvature, mistakes on purpose);
- :mod:`.gradcheck`: derivatives checked against central differences;
- :mod:`.testing`: hypothesis strategies for property tests (imports hypothesis).
"""
