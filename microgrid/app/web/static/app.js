// The page: a model menu and the five panels, each asking the server for its numbers.
import { el, onModelsChanged, state } from "./api.js";
import { chainPanel } from "./chain.js";
import { drawPanel } from "./draw.js";
import { networkPanel } from "./network.js";
import { neuronPanel } from "./neuron.js";
import { nudgesPanel } from "./nudges.js";

const menu = el("select", { id: "model" });
document.querySelector("header").append(el("label", { class: "model-menu" }, "network: ", menu));
const main = document.getElementById("panels");
main.append(drawPanel(), networkPanel(), neuronPanel(), nudgesPanel(), chainPanel());

state.on("models", (listing) => {
  menu.replaceChildren(...listing.models.map((m) =>
    el("option", { value: m.name, text: `${m.name} (${m.sizes.join("-")}, ${m.activation})` })));
  menu.value = state.model;
});
menu.addEventListener("change", () => { state.model = menu.value; state.emit("model", state.model); });

onModelsChanged().then(() => {
  state.emit("ready");
  document.body.dataset.ready = "true";
});
