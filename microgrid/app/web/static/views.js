// The views only this engine gives (issue 25), after the notes' panels: the matrix beside the
// scalar graph, what the network thinks a digit is, curvature, replay, mistakes on purpose.
import { ascentPanel } from "./ascent_view.js";
import { curvaturePanel } from "./curvature_view.js";
import { matrixPanel } from "./matrix_view.js";
import { mistakesPanel } from "./mistakes_view.js";
import { replayPanel } from "./replay_view.js";

const main = document.getElementById("panels");
main.append(matrixPanel(), ascentPanel(), curvaturePanel(), replayPanel(), mistakesPanel());
