// The views only this engine gives (issue 25): parts of the guided path after learning (story.js),
// each a section built by its own module, with the notes' sentence it starts from.
import { ascentPanel } from "./ascent_view.js";
import { curvaturePanel } from "./curvature_view.js";
import { matrixPanel } from "./matrix_view.js";
import { mistakesPanel } from "./mistakes_view.js";
import { replayPanel } from "./replay_view.js";
import { addPart } from "./story.js";

const PARTS = [
  [matrixPanel, "Matrix = chains", "The notes: \"the chain rule derivative expression describing how sensitive the cost is "
    + "to a specific weight looks essentially the same\" for every weight: the matrix of them is one product."],
  [ascentPanel, "Its idea of a digit", "The notes: \"the weights tell what pixel pattern this neuron is picking up on\": the "
    + "gradient by the pixels asks the whole network what pattern it is picking up on."],
  [curvaturePanel, "Curvature", "The notes: \"make your step size proportional to the slope so there is no overshooting\": "
    + "how large a step is too large is written in the second derivative."],
  [replayPanel, "Replay", "The notes: \"repeatedly going through all of the mini-batches and making these adjustments, you "
    + "will converge to a local minimum\": here are the adjustments, step by step, to scrub back and forth."],
  [mistakesPanel, "Mistakes", "Each classic failure of gradient descent is one factor of the chain rule gone to 0, or a "
    + "step past what the curvature allows."],
];

for (const [make, title, says] of PARTS) {
  const section = make();
  section.dataset.part = section.id;
  section.dataset.title = title;
  section.classList.add("part");
  const quote = document.createElement("p");
  quote.className = "notes-says";
  quote.textContent = says;
  section.querySelector("h2").after(quote);
  addPart(section);   // after the last part so far: learning (learn.js runs first)
}
