// A canvas that draws points as they arrive, and replays them.
//
// Each point gets a due time: when it arrived, but never sooner than 1/rate
// after the point before. Live handwriting therefore appears as fast as the
// model writes it, a Chinese character (whose points all arrive at once) is
// traced stroke by stroke, and a replay shows the same pace as the original.

export class InkView {
  constructor(canvas, { rate = 1000, penWidth = 0.09 } = {}) {
    this.canvas = canvas;
    this.rate = rate;
    this.penWidth = penWidth; // in ink units
    this.reset();
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  reset(frame = null, meta = {}) {
    this.points = []; // [x, y, penUp]
    this.arrived = []; // ms after reset() each point arrived
    this.due = []; // ms after the (re)start each point is drawn
    this.frame = frame;
    this.meta = meta;
    this.live = false;
    this.shown = 0;
    this.start = performance.now();
    this.draw();
  }

  push(points) {
    const now = performance.now() - this.start;
    for (const p of points) {
      const previous = this.due.length ? this.due[this.due.length - 1] : 0;
      this.due.push(Math.max(now, previous + 1000 / this.rate));
      this.arrived.push(now);
      this.points.push(p);
    }
    this.animate();
  }

  replay() {
    this.shown = 0;
    this.start = performance.now();
    this.animate();
  }

  visible() {
    const elapsed = performance.now() - this.start;
    let n = this.shown;
    while (n < this.points.length && this.due[n] <= elapsed) n++;
    return n;
  }

  animate() {
    if (this.frameRequest) return;
    const tick = () => {
      this.frameRequest = null;
      this.draw();
      if (this.shown < this.points.length || this.live) this.frameRequest = requestAnimationFrame(tick);
    };
    this.frameRequest = requestAnimationFrame(tick);
  }

  get finished() {
    return !this.live && this.shown === this.points.length;
  }

  // Strokes as the server writes them: a pen-up move starts a new stroke, and
  // strokes of one point (stops of a long jump through the air) are dropped.
  strokes() {
    const out = [];
    this.points.forEach(([x, y, up], i) => {
      if (up || i === 0) out.push([]);
      out[out.length - 1].push([x, y]);
    });
    return out.filter((s) => s.length > 1);
  }

  ink() {
    return { text: this.meta.text ?? null, strokes: this.strokes(), y_axis: "down",
             units: this.meta.units ?? "unit", source: "inkstroke.studio" };
  }

  draw() {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth, height = canvas.clientHeight;
    if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
    if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    this.shown = this.visible();
    const pts = this.points.slice(0, this.shown);
    if (!pts.length && !this.frame) return;

    let [x0, y0, x1, y1] = this.frame || [Infinity, Infinity, -Infinity, -Infinity];
    for (const [x, y] of pts) {
      x0 = Math.min(x0, x); x1 = Math.max(x1, x);
      y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
    const pad = 16;
    const scale = Math.min((width - 2 * pad) / Math.max(x1 - x0, 1e-6), (height - 2 * pad) / Math.max(y1 - y0, 1e-6));
    const ox = (width - (x1 - x0) * scale) / 2 - x0 * scale;
    const oy = (height - (y1 - y0) * scale) / 2 - y0 * scale;

    ctx.lineCap = ctx.lineJoin = "round";
    ctx.strokeStyle = "#1d2430";
    ctx.lineWidth = Math.max(1.2, this.penWidth * scale);
    ctx.beginPath();
    pts.forEach(([x, y, up], i) => {
      const px = x * scale + ox, py = y * scale + oy;
      if (up || i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
    });
    ctx.stroke();

    if (pts.length && (this.live || this.shown < this.points.length)) {
      const [x, y] = pts[pts.length - 1];
      ctx.fillStyle = "#e5484d";
      ctx.beginPath();
      ctx.arc(x * scale + ox, y * scale + oy, Math.max(3, ctx.lineWidth), 0, 2 * Math.PI);
      ctx.fill();
    }
  }
}
