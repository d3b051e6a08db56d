// The page: the guided path through the notes, part by part (story.js builds the contents bar
// from the parts), and the network menu at the top: the shared current network of every part.
import { el, onModelsChanged, state } from "./api.js";
import { chainPanel } from "./chain.js";
import { costPanel } from "./cost.js";
import { descentOnePanel, descentTwoPanel } from "./descent.js";
import { drawPanel } from "./draw.js";
import { networkPanel } from "./network.js";
import { neuronPanel } from "./neuron.js";
import { nudgesPanel } from "./nudges.js";
import { addPart, contentsBar } from "./story.js";

const menu = el("select", { id: "model", "aria-label": "the network every part shows" });
const header = document.querySelector("header");
header.append(el("label", { class: "model-menu" }, "network: ", menu));
header.after(contentsBar());
for (const part of [drawPanel(), networkPanel(), neuronPanel(), costPanel(), descentOnePanel(), descentTwoPanel(),
  nudgesPanel(), chainPanel()]) addPart(part);

function label(m) {
  const what = m.name === "notes" ? "the notes' network" : m.name === "digits" ? "98% reader" : "";
  return `${m.name}: ${m.sizes.join("-")} ${m.activation}${what ? ` (${what})` : ""}`;
}

state.on("models", (listing) => {
  menu.replaceChildren(...listing.models.map((m) => el("option", { value: m.name, text: label(m) })));
  menu.value = state.model;
});
state.on("model", () => { if (menu.value !== state.model) menu.value = state.model; });
menu.addEventListener("change", () => { state.model = menu.value; state.emit("model", state.model); });

onModelsChanged().then(() => {
  state.emit("ready");
  document.body.dataset.ready = "true";
});
