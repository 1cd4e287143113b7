// A "write it live" panel: a form, a stream of points into an InkView, replay and downloads.

import { ApiError, fileStem, postJSON, saveResponse, streamEvents, toast } from "./api.js";
import { InkView } from "./inkview.js";

export class LivePanel {
  // prefix: the element id prefix ("write", "hanzi"); mode: the server's stream mode.
  constructor(prefix, mode, viewOptions) {
    this.mode = mode;
    this.el = (name) => document.getElementById(`${prefix}-${name}`);
    this.view = new InkView(this.el("canvas"), viewOptions);
    this.controller = null;
    this.el("form").addEventListener("submit", (e) => { e.preventDefault(); this.start(); });
    this.el("stop").addEventListener("click", () => this.stop());
    this.el("replay").addEventListener("click", () => this.view.replay());
    for (const button of this.el("downloads").querySelectorAll("button")) {
      button.addEventListener("click", () => this.download(button.dataset.format, button.dataset.page));
    }
    for (const name of ["temperature", "bias"]) {
      const input = this.el(name);
      if (input) input.addEventListener("input", () => { this.el(`${name}-out`).value = input.value; });
    }
  }

  params() {
    const form = new FormData(this.el("form"));
    const params = new URLSearchParams({ mode: this.mode });
    for (const [key, value] of form) if (value !== "") params.set(key, value);
    return params;
  }

  status(text, error = false) {
    const line = this.el("stats");
    line.textContent = text;
    line.classList.toggle("error", error);
  }

  async start() {
    this.stop();
    const controller = (this.controller = new AbortController());
    const params = this.params();
    const t0 = performance.now();
    let first = null, count = 0;
    this.view.reset();
    this.view.live = true;
    this.el("stop").disabled = false;
    this.el("replay").disabled = true;
    this.status("waiting for the first point…");
    try {
      await streamEvents(`/api/stream?${params}`, {
        signal: controller.signal,
        onEvent: (event, data) => {
          if (event === "start") {
            this.view.reset(data.frame, data);
            this.view.live = true;
          } else if (event === "points") {
            first ??= performance.now() - t0;
            count += data.length;
            this.view.push(data);
            this.status(`${count} points · first after ${first.toFixed(0)} ms`);
          } else if (event === "end") {
            const seconds = ((performance.now() - t0) / 1000).toFixed(2);
            this.status(`${data.points} points, ${this.view.strokes().length} strokes · first after ${first?.toFixed(0)} ms · ${seconds} s` +
              (data.reason === "done" ? "" : ` · ${data.reason}`));
          } else if (event === "error") {
            throw new ApiError(data.detail);
          }
        },
      });
    } catch (e) {
      if (e.name !== "AbortError") this.status(e.message, true);
    } finally {
      if (this.controller === controller) {
        this.controller = null;
        this.view.live = false;
        this.view.animate();
        this.el("stop").disabled = true;
        this.el("replay").disabled = this.view.points.length === 0;
      }
    }
  }

  stop() {
    if (this.controller) this.controller.abort();
  }

  async download(format, pageFormat) {
    try {
      if (pageFormat) {
        const form = Object.fromEntries(new FormData(this.el("form")));
        const body = { text: form.text, style: form.style === "none" ? null : form.style,
                       temperature: Number(form.temperature), bias: Number(form.bias), seed: Number(form.seed || 0) };
        const name = fileStem(form.text, "inkstroke");
        toast("writing the page…");
        await saveResponse(await postJSON(`/api/write/${pageFormat}?name=${encodeURIComponent(name)}`, body), name);
        document.getElementById("toast").hidden = true;
        return;
      }
      const ink = this.view.ink();
      if (!ink.strokes.length) throw new ApiError("nothing written yet: press Write first");
      const name = fileStem(ink.text, this.mode);
      await saveResponse(await postJSON(`/api/convert/${format}?name=${encodeURIComponent(name)}`, ink), name);
    } catch (e) {
      toast(e.message);
    }
  }
}
