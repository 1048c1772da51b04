const escapeHtml = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch] ?? ch,
  );

interface Operation {
  summary?: string;
  tags?: string[];
  parameters?: { name: string; in: string; required?: boolean; schema?: unknown }[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
}

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

function schemaBlock(label: string, schema: unknown): string {
  if (schema === undefined) {
    return "";
  }
  return `<details><summary>${escapeHtml(label)}</summary><pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre></details>`;
}

/**
 * A readable API reference rendered on the server from the OpenAPI document. Self-contained on
 * purpose: no script from a CDN, so it works on an offline self-hosted install.
 */
export function renderApiReference(document: Record<string, unknown>): string {
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation>>;
  const byTag = new Map<string, string[]>();
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) {
        continue;
      }
      const tag = op.tags?.[0] ?? "Other";
      const params = (op.parameters ?? [])
        .map(
          (p) =>
            `<li><code>${escapeHtml(p.name)}</code> (${escapeHtml(p.in)}${p.required ? ", required" : ""})</li>`,
        )
        .join("");
      const body = op.requestBody?.content?.["application/json"]?.schema;
      const responses = Object.entries(op.responses ?? {})
        .map(([status, response]) =>
          schemaBlock(
            `Response ${status}`,
            response.content?.["application/json"]?.schema ?? response.description,
          ),
        )
        .join("");
      const html = `<section class="op"><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>
<p>${escapeHtml(op.summary ?? "")}</p>${params ? `<ul>${params}</ul>` : ""}${schemaBlock("Request body", body)}${responses}</section>`;
      byTag.set(tag, [...(byTag.get(tag) ?? []), html]);
    }
  }
  const info = (document.info ?? {}) as { title?: string; description?: string };
  const sections = [...byTag.entries()]
    .map(([tag, ops]) => `<h2 id="${escapeHtml(tag)}">${escapeHtml(tag)}</h2>${ops.join("")}`)
    .join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(info.title ?? "API")} reference</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1f2328}
h2{border-bottom:1px solid #d0d7de;padding-bottom:.3rem;margin-top:2.5rem}.op{border:1px solid #d0d7de;border-radius:8px;padding:.5rem 1rem;margin:1rem 0}
.m{display:inline-block;min-width:4.5rem;text-align:center;border-radius:4px;color:#fff;font-size:.8rem;padding:.1rem .4rem}
.get{background:#0969da}.post{background:#1a7f37}.put{background:#9a6700}.patch{background:#8250df}.delete{background:#cf222e}
pre{background:#f6f8fa;padding:.75rem;border-radius:6px;overflow:auto;font-size:.8rem}summary{cursor:pointer}</style></head>
<body><h1>${escapeHtml(info.title ?? "API")}</h1><p>${escapeHtml(info.description ?? "")}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p>${sections}</body></html>`;
}
