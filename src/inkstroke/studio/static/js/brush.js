// Calligraphy mode: characters written by the simulated brush, shown as a picture.

import { request, saveResponse, toast } from "./api.js";

export class BrushPanel {
  constructor() {
    this.form = document.getElementById("brush-form");
    this.image = document.getElementById("brush-image");
    this.picture = null; // the last PNG response's blob
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this.write(); });
    const steps = document.getElementById("brush-steps");
    steps.addEventListener("input", () => { document.getElementById("brush-steps-out").value = steps.value; });
    document.getElementById("brush-png").addEventListener("click", () => this.download("png"));
    document.getElementById("brush-json").addEventListener("click", () => this.download("json"));
  }

  query(kind) {
    const params = new URLSearchParams(new FormData(this.form));
    params.set("name", "calligraphy");
    return `/api/calligraphy/${kind}?${params}`;
  }

  status(text, error = false) {
    const line = document.getElementById("brush-stats");
    line.textContent = text;
    line.classList.toggle("error", error);
  }

  async write() {
    const go = document.getElementById("brush-go");
    go.disabled = true;
    const t0 = performance.now();
    this.status("the brush is writing…");
    try {
      const blob = await (await request(this.query("png"))).blob();
      URL.revokeObjectURL(this.image.src);
      this.image.src = URL.createObjectURL(blob);
      this.image.alt = new FormData(this.form).get("chars");
      this.image.hidden = false;
      const json = await (await request(this.query("json"))).json();
      const scores = json.metrics.map((m, i) => `${json.chars[i]} IoU ${m.iou.toFixed(3)}`).join(" · ");
      this.status(`${scores} · ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      for (const id of ["brush-png", "brush-json"]) document.getElementById(id).disabled = false;
    } catch (e) {
      this.status(e.message, true);
    } finally {
      go.disabled = false;
    }
  }

  async download(kind) {
    try {
      await saveResponse(await request(this.query(kind)), `calligraphy.${kind}`);
    } catch (e) {
      toast(e.message);
    }
  }
}
