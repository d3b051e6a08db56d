"""Two tiny nets on the scalar engine, small enough for the REPL: python demos/tiny_nets.py

XOR with a 2-4-1 net, then two moons (100 points, pure Python) with a 2-16-16-1 net and
the hinge loss, each trained in a few seconds with the loss printed as it goes down.

The moons net is the one of micrograd's demo. Its output is a score s, any real number,
and a point's label y is -1 or +1: the point is read right when s has y's sign.
- The hinge loss of a point is max(0, 1 - y s): 0 once the score is on the right side
  with a margin of at least 1, growing linearly the further it is from that. The loss
  averages it over the points.
- The L2 term adds 1e-4 times the sum of the squares of every weight and bias, a small
  pull of every parameter towards 0 (large weights make a jagged boundary).
"""

from microgrid import MLP, SGD, Value, mse
from microgrid.support.toys import two_moons, xor

xs, ys = xor()
net = MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=0)
print(net)
opt = SGD(net.parameters(), lr=0.5, momentum=0.9)
for step in range(301):
    loss = mse([net(x) for x in xs], [[y] for y in ys])
    net.zero_grad()
    loss.backward()
    opt.step()
    if step % 50 == 0:
        print(step, round(loss.data, 4))
print([round(net(x)[0].data, 3) for x in xs])

points, labels = two_moons(100, seed=0)
moons = MLP(2, [16, 16, 1], activation="relu", output_activation="linear", seed=1)
print(moons)
opt = SGD(moons.parameters(), lr=0.1, momentum=0.9)
for step in range(101):
    scores = [moons(p)[0] for p in points]
    # hinge: max(0, 1 - y s) per point, averaged; L2: 1e-4 * sum of squared parameters
    hinge = Value.sum([(1 - y * s).relu() for y, s in zip(labels, scores)]) * (1 / len(points))
    loss = hinge + 1e-4 * Value.sum([p * p for p in moons.parameters()])
    moons.zero_grad()
    loss.backward()
    opt.step()
    if step % 20 == 0:
        right = sum((s.data > 0) == (y > 0) for s, y in zip(scores, labels))
        print(f"step {step}  loss {loss.data:.4f}  accuracy {right}%")
