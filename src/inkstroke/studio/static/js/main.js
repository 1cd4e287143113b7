// The studio page: four tabs over one API (see /docs).

import { getJSON, toast } from "./api.js";
import { BrushPanel } from "./brush.js";
import { CollectPanel } from "./collect.js";
import { LivePanel } from "./live.js";

const tabs = [...document.querySelectorAll('[role="tab"]')];

function show(tab) {
  for (const t of tabs) {
    const selected = t === tab;
    t.setAttribute("aria-selected", String(selected));
    document.getElementById(t.getAttribute("aria-controls")).hidden = !selected;
  }
  history.replaceState(null, "", `#${tab.id.replace("tab-", "")}`);
  window.dispatchEvent(new Event("resize"));
}
for (const t of tabs) t.addEventListener("click", () => show(t));

const write = new LivePanel("write", "handwriting", { rate: 1500, penWidth: 0.09 });
const hanzi = new LivePanel("hanzi", "hanzi", { rate: 220, penWidth: 34 });
const brush = new BrushPanel();
const styleSelect = document.getElementById("write-style");

function fillStyles(shipped, samples) {
  const current = styleSelect.value;
  const options = [new Option("none", "none")];
  for (const name of shipped) options.push(new Option(name, name));
  for (const s of samples) options.push(new Option(`my hand: #${s.id} “${s.text}”`, `sample:${s.id}`));
  if (samples.length > 1) {
    const ids = samples.slice(0, 3).map((s) => s.id).join(",");
    options.push(new Option(`my hand: my last ${Math.min(3, samples.length)} samples`, `sample:${ids}`));
  }
  styleSelect.replaceChildren(...options);
  if ([...styleSelect.options].some((o) => o.value === current)) styleSelect.value = current;
}

let shippedStyles = [];
const collect = new CollectPanel({
  onStyle: (id) => {
    styleSelect.value = `sample:${id}`;
    show(document.getElementById("tab-write"));
    write.start();
  },
  onSamples: (samples) => fillStyles(shippedStyles, samples),
});

async function init() {
  const info = await getJSON("/api/info");
  const status = document.getElementById("model-status");
  status.textContent = info.model.ready ? `model: ${info.model.name}` : info.model.error;
  document.getElementById("write-go").disabled = !info.model.ready;
  document.getElementById("collect-db").textContent = info.database;
  shippedStyles = info.styles;
  if (info.model.temperature) {  // start the slider at the model's own temperature
    const slider = document.getElementById("write-temperature");
    slider.value = info.model.temperature;
    document.getElementById("write-temperature-out").textContent = slider.value;
  }
  await collect.refresh();
  const tab = document.getElementById(`tab-${location.hash.slice(1)}`);
  if (tab) show(tab);
}

init().catch((e) => toast(`cannot reach the studio server: ${e.message}`));
window.studio = { write, hanzi, brush, collect };
