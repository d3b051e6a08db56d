"""Train the notes' network on MNIST with the fast path: python demos/mnist_fast.py

784-16-16-10, sigmoid, the notes' cost (MSE) and mini-batch SGD, 5 epochs of 600
mini-batches of 100 images: each epoch prints its cost and accuracy, in about a second.
"""

from microgrid.digits.data import load_mnist
from microgrid.digits.train import PRESETS, TrainConfig, train

data = load_mnist()
print(f"{len(data.train_images):,} training images, {len(data.test_images):,} test images, 28x28 pixels each")
config = TrainConfig(**{**PRESETS["notes-plain"], "epochs": 5})
model, history = train(config, data, progress=False)
print(model)
print(f"test accuracy after {len(history)} epochs: {history[-1]['test_accuracy']:.2%}")
