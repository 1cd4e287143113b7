// Small helpers over fetch: every error the server sends is {"detail": "..."}.

export class ApiError extends Error {}

async function detail(response) {
  try {
    const body = await response.json();
    return typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

export async function request(url, options = {}) {
  const response = await fetch(url, options);
  if (!response.ok) throw new ApiError(await detail(response));
  return response;
}

export async function getJSON(url) {
  return (await request(url)).json();
}

export async function postJSON(url, body) {
  return request(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

// Save a response body under a file name, as a normal browser download.
export async function saveResponse(response, fallbackName) {
  const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: match ? match[1] : fallbackName });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// A download name the server accepts: letters, digits, spaces, '_', '-'.
export function fileStem(text, fallback) {
  const stem = (text || "").replace(/[^A-Za-z0-9 _-]+/g, "").trim().slice(0, 40).trim();
  return /^[A-Za-z0-9]/.test(stem) ? stem : fallback;
}

let toastTimer;
export function toast(message) {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

// Server-sent events read with fetch: unlike EventSource, an HTTP error keeps its
// message, and aborting the signal closes the connection (the server stops at once).
export async function streamEvents(url, { signal, onEvent }) {
  const response = await request(url, { signal, headers: { Accept: "text/event-stream" } });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trim());
      }
      if (data.length) onEvent(event, JSON.parse(data.join("\n")));
    }
  }
}
