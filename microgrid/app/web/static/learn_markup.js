// The training panel's markup, one <section id="learn"> (learn.js puts it in the page).
export const LEARN_HTML = `
<h2 class="learn-title">Watch the network learn</h2>
<p class="learn-lede notes-says">Learning is minimizing the cost: shuffle the training data, split it into mini-batches of
  100, and for each take a step downhill along its average nudges, "not the most efficient step downhill, but a pretty
  good approximation". Start it at a pace you can watch: one mini-batch at a time shows the batch and the step it takes.
  Every number here is computed by microgrid in Python and streamed to this page.</p>
<nav class="learn-modes">
    <button type="button" id="learn-mode-mnist" class="learn-mode learn-active">MNIST</button>
    <button type="button" id="learn-mode-toy" class="learn-mode">Toy: moons and XOR</button>
  </nav>
<div id="learn-mnist-panel" class="learn-grid">
  <div class="learn-card learn-settings">
    <h2>The network and how it learns</h2>
    <form id="learn-settings" autocomplete="off">
      <label>Recipe <select name="preset" id="learn-preset">
        <option value="">my own settings</option>
      </select></label>
      <label>Layers <input name="sizes" id="learn-sizes" value="784-16-16-10" title="784, up to 4 hidden layers of 1 to 1024 neurons, 10"></label>
      <label>Activation <select name="activation" id="learn-activation"></select></label>
      <label>Output <select name="output_activation" id="learn-output_activation">
        <option value="">same</option></select></label>
      <label>Cost <select name="loss" id="learn-loss">
        <option value="mse">MSE (the notes')</option><option value="cross_entropy">cross-entropy</option></select></label>
      <label>Optimizer <select name="optimizer" id="learn-optimizer">
        <option value="sgd">SGD (+ momentum)</option><option value="adam">Adam</option></select></label>
      <label>Learning rate <input name="lr" id="learn-lr" type="number" step="any" value="3"></label>
      <label>Momentum <input name="momentum" id="learn-momentum" type="number" step="any" value="0"></label>
      <label>Batch size <input name="batch_size" id="learn-batch_size" type="number" value="100"></label>
      <label>Epochs <input name="epochs" id="learn-epochs" type="number" value="1"></label>
      <label>Seed <input name="seed" id="learn-seed" type="number" value="0"></label>
      <label class="learn-check"><input type="checkbox" id="learn-views" checked> live cost surface and gradient</label>
    </form>
    <label class="learn-pace">Pace <select id="learn-pace"></select></label>
    <p id="learn-expect" class="learn-caption"></p>
    <div class="learn-buttons">
      <button type="button" id="learn-start" class="learn-primary">Start</button>
      <button type="button" id="learn-pause" disabled>Pause</button>
      <button type="button" id="learn-resume" disabled>Resume</button>
      <button type="button" id="learn-step" title="one mini-batch, then pause" disabled>Next mini-batch</button>
      <button type="button" id="learn-stop" disabled>Stop</button>
    </div>
    <div class="learn-live">
      <span>While it runs:</span>
      <label>lr <input id="learn-live-lr" type="number" step="any"></label>
      <label>batch <input id="learn-live-batch" type="number"></label>
      <button type="button" id="learn-apply" disabled>Apply at the next batch</button>
    </div>
    <p id="learn-message" class="learn-message" role="status"></p>
  </div>

  <div class="learn-card learn-progress-card">
    <div class="learn-status-line"><strong id="learn-status">idle</strong> <span id="learn-progress-text"></span></div>
    <div class="learn-bar"><div id="learn-progress" style="width:0%"></div></div>
  </div>

  <div class="learn-card learn-wide learn-diagnosis" id="learn-diagnosis" hidden></div>

  <div class="learn-card learn-wide" id="learn-batch-card" hidden>
    <h2>The mini-batch this step learns from</h2>
    <div id="learn-batch"></div>
    <p class="learn-caption">Each image with its label; a wrong answer before the step in red (said≠is).</p>
  </div>

  <div class="learn-card">
    <h2>The average cost, batch by batch</h2>
    <canvas id="learn-cost-chart" width="640" height="220" data-points="0"></canvas>
    <p class="learn-caption">Grey: each mini-batch's cost C; dark: its running average. Dashed lines: a new learning rate
      or batch size. <span id="learn-lr-now"></span></p>
  </div>

  <div class="learn-card">
    <h2>Accuracy per epoch</h2>
    <canvas id="learn-accuracy-chart" width="320" height="180"></canvas>
    <p class="learn-caption" id="learn-accuracy-wait">Measured on all the training and test images after each epoch.</p>
    <table id="learn-accuracy-table"><thead><tr><th>epoch</th><th>cost</th><th>train</th><th>test</th><th>s</th></tr></thead><tbody></tbody></table>
    <p>Test accuracy: <strong id="learn-test-accuracy">-</strong></p>
  </div>

  <div class="learn-card learn-weights-card">
    <h2>What the first layer looks for</h2>
    <div id="learn-weights" class="learn-weights"></div>
    <p class="learn-caption" id="learn-weights-caption">Each neuron's 784 weights as a 28x28 picture: red positive, blue negative.</p>
  </div>

  <div class="learn-card">
    <h2>The cost surface around the weights</h2>
    <canvas id="learn-surface" width="300" height="300"></canvas>
    <p class="learn-caption" id="learn-surface-caption">A 2-D slice of the cost over weight space, with the path gradient descent took.</p>
  </div>

  <div class="learn-card">
    <h2>Mini-batch step vs the full downhill step</h2>
    <canvas id="learn-gradient-chart" width="300" height="150"></canvas>
    <dl class="learn-numbers">
      <dt>cosine</dt><dd id="learn-cosine">-</dd>
      <dt>mini-batch cost</dt><dd id="learn-batch-cost">-</dd>
      <dt>cost over 5,000 images</dt><dd id="learn-full-cost">-</dd>
    </dl>
    <p class="learn-caption">The notes: each mini-batch's gradient is "not the most efficient step downhill but a pretty
      good approximation". The cosine is 1 when the two point the same way.</p>
  </div>

  <div class="learn-card learn-wide" id="learn-final" hidden>
    <h2>The trained network</h2>
    <p id="learn-final-summary"></p>
    <p><a id="learn-download" href="/api/train/model.npz" download>Download the model (.npz, as <code>python -m microgrid train</code> writes it)</a>
      · <a href="/">read your own digit with it in the draw panel</a></p>
    <div class="learn-final-grid">
      <div><h3>Confusion matrix (rows: the digit, columns: what the net said)</h3><table id="learn-confusion"></table></div>
      <div><h3>Test digits it got wrong</h3><div id="learn-mistakes" class="learn-mistakes"></div></div>
    </div>
  </div>
</div>

<div id="learn-toy-panel" class="learn-grid" hidden>
  <div class="learn-card learn-settings">
    <h2>A REPL-sized net on the scalar engine</h2>
    <form id="learn-toy-settings" autocomplete="off">
      <label>Data <select id="learn-toy-dataset"><option value="moons">two moons (100 points)</option><option value="xor">XOR</option></select></label>
      <label>Hidden layers <input id="learn-toy-hidden" value="16-16"></label>
      <label>Activation <select id="learn-toy-activation"><option>relu</option><option>tanh</option><option>sigmoid</option></select></label>
      <label>Cost <select id="learn-toy-loss"><option value="hinge">hinge (labels -1/+1)</option><option value="mse">MSE (sigmoid output)</option></select></label>
      <label>Learning rate <input id="learn-toy-lr" type="number" step="any" value="0.1"></label>
      <label>Steps <input id="learn-toy-steps" type="number" value="150"></label>
    </form>
    <div class="learn-buttons">
      <button type="button" id="learn-toy-start" class="learn-primary">Train the toy</button>
      <button type="button" id="learn-toy-stop">Stop</button>
    </div>
    <p id="learn-toy-message" class="learn-message" role="status"></p>
  </div>
  <div class="learn-card">
    <h2>The decision boundary</h2>
    <canvas id="learn-toy-plot" width="360" height="360"></canvas>
    <p>Step <strong id="learn-toy-step">0</strong>, training accuracy <strong id="learn-toy-accuracy">-</strong></p>
  </div>
  <div class="learn-card">
    <h2>The cost, step by step</h2>
    <canvas id="learn-toy-cost" width="420" height="200"></canvas>
  </div>
</div>
`;
