"""XOR with a 2-4-1 net on the scalar engine, small enough for the REPL: python demos/tiny_nets.py"""

from microgrid import MLP, SGD, mse

xs = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
ys = [0.0, 1.0, 1.0, 0.0]
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
