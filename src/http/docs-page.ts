import { createHash } from "node:crypto";

/**
 * GET /docs: an API reference rendered in the browser from /openapi.json by the page's own
 * script. Nothing is loaded from elsewhere (issue 18: an unpinned CDN script ran with this
 * origin's authority), and the Content-Security-Policy allows exactly this page's inline script
 * and style, by hash, and fetches from this origin only.
 */

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h2{border-bottom:1px solid #ddd;margin-top:2rem}details{margin:.4rem 0;border:1px solid #e3e3e3;border-radius:4px;padding:.3rem .6rem}
summary{cursor:pointer}code,pre{font:13px ui-monospace,monospace}pre{background:#f6f6f6;padding:.5rem;overflow:auto}
.m{display:inline-block;min-width:4.5rem;font-weight:600;text-transform:uppercase}`;

// Builds the DOM with textContent only: the description is data, never markup.
const SCRIPT = `(async () => {
  const root = document.getElementById("api-reference");
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
  let doc;
  try { doc = await (await fetch(root.dataset.url)).json(); } catch (e) { root.append(el("p", "Could not load " + root.dataset.url + ": " + e)); return; }
  document.title = doc.info.title + " " + doc.info.version;
  root.append(el("h1", doc.info.title + " " + doc.info.version), el("p", doc.info.description || ""));
  const byTag = new Map();
  for (const [path, item] of Object.entries(doc.paths || {})) for (const [method, op] of Object.entries(item)) {
    const tag = (op.tags || ["other"])[0];
    if (!byTag.has(tag)) byTag.set(tag, []);
    byTag.get(tag).push([method, path, op]);
  }
  for (const [tag, ops] of byTag) {
    root.append(el("h2", tag));
    for (const [method, path, op] of ops) {
      const d = el("details"), s = el("summary");
      s.append(el("span", method, "m"), el("code", path), document.createTextNode(" " + (op.summary || "")));
      d.append(s);
      if (op.description) d.append(el("p", op.description));
      for (const p of op.parameters || []) d.append(el("p", p.in + " " + p.name + (p.required ? " (required)" : "") + ": " + JSON.stringify(p.schema)));
      const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
      if (body) { d.append(el("h4", "Request body")); d.append(el("pre", JSON.stringify(body.schema, null, 2))); }
      d.append(el("h4", "Responses"));
      for (const [status, r] of Object.entries(op.responses || {})) d.append(el("p", status + ": " + (r.description || "")));
      root.append(d);
    }
  }
})();`;

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export function docsPage(title: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>
<style>${STYLE}</style></head>
<body>
<noscript><p>The API description is at <a href="/openapi.json">/openapi.json</a>.</p></noscript>
<main id="api-reference" data-url="/openapi.json"></main>
<script>${SCRIPT}</script>
</body>
</html>`;
}

export const DOCS_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": DOCS_CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};
