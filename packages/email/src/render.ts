import { decodeHTML } from "entities";
import { Lexer, Marked, type Token, type Tokens } from "marked";
import sanitizeHtml from "sanitize-html";

/**
 * Agent replies are Markdown written by a model that read untrusted email, so the HTML is built
 * from an allowlist and every style in it is ours: nothing the model writes survives as script,
 * style, event handler, form, frame or non-http(s) link.
 */

export interface RenderedEmail {
  html: string;
  text: string;
}

const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif";
const MONO = "ui-monospace,SFMono-Regular,Menlo,Consolas,'Liberation Mono',monospace";

/** Inline styles, because many mail clients drop <style> blocks. */
const TAG_STYLES: Record<string, string> = {
  p: "margin:0 0 12px;",
  h1: "font-size:22px;line-height:1.3;margin:20px 0 10px;font-weight:600;",
  h2: "font-size:19px;line-height:1.3;margin:18px 0 8px;font-weight:600;",
  h3: "font-size:17px;line-height:1.3;margin:16px 0 8px;font-weight:600;",
  h4: "font-size:15px;margin:14px 0 6px;font-weight:600;",
  h5: "font-size:14px;margin:12px 0 6px;font-weight:600;",
  h6: "font-size:13px;margin:12px 0 6px;font-weight:600;color:#57606a;",
  a: "color:#0969da;text-decoration:underline;",
  blockquote: "margin:0 0 12px;padding:0 12px;border-left:3px solid #d0d7de;color:#57606a;",
  pre: `margin:0 0 12px;padding:12px;background-color:#f6f8fa;border-radius:6px;font-family:${MONO};font-size:13px;line-height:1.45;white-space:pre-wrap;word-wrap:break-word;`,
  code: `font-family:${MONO};font-size:13px;background-color:#f6f8fa;border-radius:4px;padding:1px 4px;`,
  ul: "margin:0 0 12px;padding-left:24px;",
  ol: "margin:0 0 12px;padding-left:24px;",
  li: "margin:2px 0;",
  table: "border-collapse:collapse;margin:0 0 12px;",
  th: "border:1px solid #d0d7de;padding:6px 10px;font-weight:600;background-color:#f6f8fa;",
  td: "border:1px solid #d0d7de;padding:6px 10px;",
  img: "max-width:100%;height:auto;border:0;",
  hr: "border:0;border-top:1px solid #d0d7de;margin:16px 0;",
};

const ALLOWED_TAGS = [
  ...Object.keys(TAG_STYLES),
  "br",
  "strong",
  "b",
  "em",
  "i",
  "u",
  "s",
  "del",
  "ins",
  "mark",
  "sub",
  "sup",
  "small",
  "kbd",
  "thead",
  "tbody",
  "tfoot",
  "tr",
  "caption",
  "span",
  "div",
  "dl",
  "dt",
  "dd",
  "abbr",
];

const SAFE_IMAGE_SRC = /^(?:https?:|cid:)/i;

const SANITIZE_OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: ALLOWED_TAGS,
  allowedAttributes: {
    ...Object.fromEntries(Object.keys(TAG_STYLES).map((tag) => [tag, ["style"]])),
    a: ["href", "title", "rel", "target", "style"],
    img: ["src", "alt", "title", "width", "height", "style"],
    th: ["align", "colspan", "rowspan", "style"],
    td: ["align", "colspan", "rowspan", "style"],
    ol: ["start", "style"],
    abbr: ["title"],
  },
  allowedSchemes: ["http", "https", "mailto"],
  allowedSchemesByTag: { img: ["http", "https", "cid"] },
  allowedSchemesAppliedToAttributes: ["href", "src", "cite"],
  allowProtocolRelative: false,
  // Whatever style or rel the Markdown carried is replaced: our styles, and links that cannot reach
  // back into the opening window.
  transformTags: {
    "*": (tagName, attribs) => {
      const { style: _ignored, ...rest } = attribs;
      const style = TAG_STYLES[tagName];
      const next: sanitizeHtml.Attributes = style ? { ...rest, style } : rest;
      if (tagName === "a") {
        next.rel = "noopener noreferrer";
        next.target = "_blank";
      }
      return { tagName, attribs: next };
    },
  },
  // Relative or data: images have no place in an email; an <img> without a usable src goes entirely.
  exclusiveFilter: (frame) => frame.tag === "img" && !SAFE_IMAGE_SRC.test(frame.attribs.src ?? ""),
};

const markdown = new Marked({
  gfm: true,
  renderer: {
    // GFM task lists render as <input> elements, which mail clients do not show.
    checkbox: ({ checked }) => (checked ? "☑ " : "☐ "),
  },
});

function layout(body: string): string {
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light">',
    "</head>",
    '<body style="margin:0;padding:0;background-color:#ffffff;">',
    `<div style="max-width:640px;margin:0 auto;padding:24px 16px;font-family:${FONT};font-size:15px;line-height:1.6;color:#1f2328;word-wrap:break-word;">`,
    body,
    "</div>",
    "</body>",
    "</html>",
  ].join("\n");
}

/** Markdown text keeps HTML character references; the plain-text part shows the characters. */
const decodeEntities = (text: string): string => decodeHTML(text);

/** Raw HTML inside Markdown contributes its text only (script and style contents dropped). */
function htmlToText(html: string): string {
  const withBreaks = html.replace(/<br\s*\/?>|<\/(?:p|div|li|tr|h[1-6]|blockquote|pre)\s*>/gi, "$&\n");
  return decodeEntities(sanitizeHtml(withBreaks, { allowedTags: [], allowedAttributes: {} }));
}

function inlineText(tokens: Token[] | undefined): string {
  let out = "";
  for (const token of tokens ?? []) {
    switch (token.type) {
      case "text":
        out += "tokens" in token && token.tokens ? inlineText(token.tokens) : decodeEntities(token.text);
        break;
      case "escape":
        out += decodeEntities(token.text);
        break;
      case "codespan":
        out += `\`${decodeEntities(token.text)}\``;
        break;
      case "br":
        out += "\n";
        break;
      case "link": {
        const link = token as Tokens.Link;
        const label = inlineText(link.tokens);
        const target = link.href.replace(/^mailto:/i, "");
        const bare = link.autolink || label === target || label === link.href || !link.href;
        out += bare ? label : `${label} (${link.href})`;
        break;
      }
      case "image": {
        const image = token as Tokens.Image;
        out += image.text ? `[${decodeEntities(image.text)}]` : "[image]";
        break;
      }
      case "html":
        out += htmlToText(token.text);
        break;
      case "checkbox":
        out += (token as Tokens.Checkbox).checked ? "[x] " : "[ ] ";
        break;
      default:
        if ("tokens" in token && token.tokens) {
          out += inlineText(token.tokens);
        } else if ("text" in token && typeof token.text === "string") {
          out += decodeEntities(token.text);
        }
    }
  }
  return out;
}

function indent(text: string, prefix: string, firstPrefix = prefix): string {
  return text
    .split("\n")
    .map((line, index) => (index === 0 ? firstPrefix : line === "" ? prefix.trimEnd() : prefix) + line)
    .join("\n");
}

function blocksText(tokens: Token[], separator = "\n\n"): string {
  const blocks: string[] = [];
  for (const token of tokens) {
    const block = blockText(token);
    if (block !== undefined && block.trim() !== "") {
      blocks.push(block.replace(/\s+$/, ""));
    }
  }
  return blocks.join(separator);
}

function listText(list: Tokens.List): string {
  const start = typeof list.start === "number" ? list.start : 1;
  return list.items
    .map((item, index) => {
      const marker = list.ordered ? `${start + index}. ` : "- ";
      const task = item.task ? (item.checked ? "[x] " : "[ ] ") : "";
      const body = blocksText(
        item.tokens.filter((token) => token.type !== "checkbox"),
        list.loose ? "\n\n" : "\n",
      );
      return indent(`${task}${body}`, " ".repeat(marker.length), marker);
    })
    .join(list.loose ? "\n\n" : "\n");
}

function tableText(table: Tokens.Table): string {
  const rows = [table.header, ...table.rows].map((cells) => cells.map((cell) => inlineText(cell.tokens)));
  const widths = table.header.map((_, column) => Math.max(3, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join(" | ")
      .trimEnd();
  const [header = [], ...body] = rows;
  return [line(header), widths.map((width) => "-".repeat(width)).join("-|-"), ...body.map(line)].join("\n");
}

function blockText(token: Token): string | undefined {
  switch (token.type) {
    case "space":
    case "def":
      return undefined;
    case "heading": {
      const heading = token as Tokens.Heading;
      const text = inlineText(heading.tokens);
      if (heading.depth <= 2) {
        return `${text}\n${(heading.depth === 1 ? "=" : "-").repeat(Math.min(text.length, 78))}`;
      }
      return text;
    }
    case "paragraph":
      return inlineText((token as Tokens.Paragraph).tokens);
    case "text":
      return "tokens" in token && token.tokens ? inlineText(token.tokens) : decodeEntities(token.text);
    case "code":
      return indent((token as Tokens.Code).text, "    ");
    case "blockquote":
      return indent(blocksText((token as Tokens.Blockquote).tokens), "> ");
    case "list":
      return listText(token as Tokens.List);
    case "table":
      return tableText(token as Tokens.Table);
    case "hr":
      return "----------";
    case "html":
      return htmlToText(token.text).trim();
    default:
      return "tokens" in token && token.tokens ? inlineText(token.tokens) : undefined;
  }
}

/** Markdown → a sanitized, inline-styled HTML email and a readable plain-text alternative. */
export function renderAgentEmail({ markdown: source }: { markdown: string }): RenderedEmail {
  const rendered = markdown.parse(source, { async: false });
  // Inline-code styling would draw a box inside every code block.
  const body = sanitizeHtml(rendered, SANITIZE_OPTIONS)
    .replace(/(<pre[^>]*>)<code style="[^"]*">/g, "$1<code>")
    .trim();
  const text = blocksText(new Lexer({ gfm: true }).lex(source));
  return { html: layout(body), text: `${text.replace(/\n{3,}/g, "\n\n").trim()}\n` };
}
