// Collect mode: a writing pad on Pointer Events, and the list of saved samples.
//
// Points are [x, y, t, pressure]: CSS pixels from the pad's top-left corner,
// seconds since the first touch of the sample, and the pressure the device
// reports (a mouse reports 0.5 while a button is down). Coalesced events are
// kept, so a fast pen loses no points between animation frames.

import { ApiError, getJSON, postJSON, request, toast } from "./api.js";

export class CollectPad {
  constructor(canvas) {
    this.canvas = canvas;
    this.strokes = [];
    this.device = null;
    this.t0 = null;
    this.active = null; // pointerId of the stroke being drawn
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    for (const type of ["pointerup", "pointercancel"]) canvas.addEventListener(type, (e) => this.up(e));
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  point(e) {
    const box = this.canvas.getBoundingClientRect();
    const stroke = this.strokes[this.strokes.length - 1];
    const last = stroke.length ? stroke[stroke.length - 1][2] : 0;
    const t = Math.max((e.timeStamp - this.t0) / 1000, last); // times never go back
    return [e.clientX - box.left, e.clientY - box.top, Number(t.toFixed(4)), e.pressure];
  }

  down(e) {
    if (this.active !== null || (e.pointerType === "mouse" && e.button !== 0)) return;
    e.preventDefault();
    this.canvas.setPointerCapture(e.pointerId);
    this.active = e.pointerId;
    this.device ??= e.pointerType;
    this.t0 ??= e.timeStamp;
    this.strokes.push([]);
    this.strokes[this.strokes.length - 1].push(this.point(e));
    this.draw();
  }

  move(e) {
    if (e.pointerId !== this.active) return;
    const stroke = this.strokes[this.strokes.length - 1];
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    for (const each of events.length ? events : [e]) stroke.push(this.point(each));
    this.draw();
  }

  up(e) {
    if (e.pointerId !== this.active) return;
    this.active = null;
    this.draw();
  }

  undo() {
    this.strokes.pop();
    if (!this.strokes.length) this.clear();
    this.draw();
  }

  clear() {
    this.strokes = [];
    this.device = this.t0 = null;
    this.draw();
  }

  draw() {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(canvas.clientWidth * ratio);
    canvas.height = Math.round(canvas.clientHeight * ratio);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.strokeStyle = "#1d2430";
    for (const stroke of this.strokes) {
      ctx.beginPath();
      stroke.forEach(([x, y, , p], i) => {
        ctx.lineWidth = 1.5 + 2.5 * (p || 0.5);
        if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
      });
      if (stroke.length === 1) ctx.lineTo(stroke[0][0] + 0.01, stroke[0][1]);
      ctx.stroke();
    }
  }

  sample(text, writer) {
    return { text, writer: writer || null, device: this.device,
             canvas: [this.canvas.clientWidth, this.canvas.clientHeight], strokes: this.strokes };
  }
}

export class CollectPanel {
  // onStyle(sampleId): the writer picked a sample as the style for generation;
  // onSamples(list): the list of saved samples changed.
  constructor({ onStyle, onSamples }) {
    this.onStyle = onStyle;
    this.onSamples = onSamples;
    this.pad = new CollectPad(document.getElementById("collect-canvas"));
    this.list = document.getElementById("sample-list");
    const writer = document.getElementById("collect-writer");
    writer.value = localStorage.getItem("inkstroke-writer") || "";
    writer.addEventListener("change", () => localStorage.setItem("inkstroke-writer", writer.value));
    document.getElementById("collect-form").addEventListener("submit", (e) => { e.preventDefault(); this.save(); });
    document.getElementById("collect-undo").addEventListener("click", () => this.pad.undo());
    document.getElementById("collect-clear").addEventListener("click", () => this.pad.clear());
  }

  status(text, error = false) {
    const line = document.getElementById("collect-status");
    line.textContent = text;
    line.classList.toggle("error", error);
  }

  async save() {
    const text = document.getElementById("collect-text").value.trim();
    const writer = document.getElementById("collect-writer").value.trim();
    try {
      if (!this.pad.strokes.length) throw new ApiError("write something on the pad first");
      const saved = await (await postJSON("/api/samples", this.pad.sample(text, writer))).json();
      this.pad.clear();
      document.getElementById("collect-text").value = "";
      this.status(`saved sample #${saved.id}: ${saved.strokes} strokes, ${saved.points} points`);
      await this.refresh();
    } catch (e) {
      this.status(e.message, true);
    }
  }

  async refresh() {
    const samples = await getJSON("/api/samples");
    document.getElementById("collect-count").textContent = `(${samples.length})`;
    this.list.replaceChildren(...samples.map((s) => this.item(s)));
    this.onSamples(samples);
  }

  item(s) {
    const li = document.createElement("li");
    li.dataset.id = s.id;
    const img = Object.assign(document.createElement("img"), { src: `/api/samples/${s.id}/svg`, alt: s.text, loading: "lazy" });
    const label = Object.assign(document.createElement("p"), { className: "label", textContent: s.text });
    const when = new Date(s.created * 1000).toLocaleString();
    const meta = Object.assign(document.createElement("p"), {
      className: "meta", textContent: `#${s.id} · ${s.strokes} strokes · ${s.points} points · ${s.device || "?"} · ${s.writer || "anonymous"} · ${when}` });
    const actions = Object.assign(document.createElement("div"), { className: "actions" });
    const use = Object.assign(document.createElement("button"), { textContent: "Write in this hand", type: "button" });
    use.addEventListener("click", () => this.onStyle(s.id));
    const inkml = Object.assign(document.createElement("a"), { href: `/api/samples/${s.id}/inkml`, textContent: "InkML" });
    const remove = Object.assign(document.createElement("button"), { textContent: "Delete", type: "button" });
    remove.addEventListener("click", async () => {
      if (!confirm(`Delete sample #${s.id} ("${s.text}")?`)) return;
      try {
        await request(`/api/samples/${s.id}`, { method: "DELETE" });
        await this.refresh();
      } catch (e) {
        toast(e.message);
      }
    });
    actions.append(use, inkml, remove);
    li.append(img, label, meta, actions);
    return li;
  }
}
