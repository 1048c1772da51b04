import { describe, expect, it } from "vitest";
import { renderAgentEmail } from "./render";

/** The HTML inside our layout wrapper. */
function content(html: string): string {
  const start = html.indexOf(">", html.indexOf("<div ")) + 1;
  return html.slice(start, html.lastIndexOf("</div>"));
}

describe("renderAgentEmail", () => {
  it("renders Markdown into inline-styled HTML inside the layout", () => {
    const { html } = renderAgentEmail({
      markdown: "# Report\n\nAll **done**, see [the log](https://example.org/log).\n\n- a\n- b\n\n`x = 1`",
    });
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toMatch(/<h1 style="[^"]*font-size:22px[^"]*">Report<\/h1>/);
    expect(html).toContain("<strong>done</strong>");
    expect(html).toMatch(/<ul style="[^"]+">\s*<li style="[^"]+">a<\/li>/);
    expect(html).toMatch(/<code style="[^"]*monospace[^"]*">x = 1<\/code>/);
  });

  it("gives links rel=noopener and target=_blank, replacing what the Markdown said", () => {
    const { html } = renderAgentEmail({
      markdown:
        'Go [here](https://example.org) or <a href="https://x.example" rel="opener" target="_self">there</a>.',
    });
    const links = content(html).match(/<a [^>]*>/g) ?? [];
    expect(links).toHaveLength(2);
    for (const link of links) {
      expect(link).toContain('rel="noopener noreferrer"');
      expect(link).toContain('target="_blank"');
      expect(link).not.toContain('rel="opener"');
      expect(link).not.toContain("_self");
    }
  });

  it.each([
    ["script tag", "<script>alert(1)</script>hello", /script|alert/i],
    ["script in markdown paragraph", "text <script>alert(document.cookie)</script>", /script|alert/i],
    ["img onerror", '<img src="https://x.example/a.png" onerror="alert(1)">', /onerror|alert/i],
    ["img with relative src", "<img src=x onerror=alert(1)>", /<img|alert/i],
    ["img with data: src", '<img src="data:image/png;base64,AAAA">', /<img|data:/i],
    ["javascript: link in HTML", '<a href="javascript:alert(1)">x</a>', /javascript/i],
    ["mixed-case javascript: link", '<a href="JaVaScRiPt:alert(1)">x</a>', /javascript/i],
    ["entity-encoded javascript: link", '<a href="jav&#x09;ascript:alert(1)">x</a>', /ascript/i],
    ["javascript: link in Markdown", "[x](javascript:alert(1))", /href="javascript/i],
    ["vbscript: link", '<a href="vbscript:msgbox(1)">x</a>', /vbscript/i],
    ["data: link", '<a href="data:text/html,<script>alert(1)</script>">x</a>', /data:|script/i],
    ["event handler", '<p onclick="alert(1)" onmouseover="alert(2)">x</p>', /onclick|onmouseover|alert/i],
    ["style attribute", '<p style="background:url(javascript:alert(1))">x</p>', /url\(|javascript/i],
    ["style element", "<style>body{background:red}</style>x", /<style|background:red/i],
    ["iframe", '<iframe src="https://evil.example"></iframe>', /iframe|evil/i],
    ["object/embed", '<object data="x.swf"></object><embed src="x.swf">', /object|embed|swf/i],
    [
      "form",
      '<form action="https://evil.example"><input name="p"><button>go</button></form>',
      /<form|<input|<button|evil/i,
    ],
    ["svg onload", '<svg onload="alert(1)"><circle r="5"/></svg>', /svg|onload|alert/i],
    ["meta refresh", '<meta http-equiv="refresh" content="0;url=https://evil.example">', /<meta|evil/i],
    ["base href", '<base href="https://evil.example/">', /<base|evil/i],
    ["protocol-relative link", '<a href="//evil.example">x</a>', /evil/i],
  ])("strips %s", (_name, markdown, forbidden) => {
    const body = content(renderAgentEmail({ markdown }).html);
    expect(body, body).not.toMatch(forbidden);
  });

  it("keeps http(s) and cid images", () => {
    const body = content(
      renderAgentEmail({ markdown: "![chart](https://example.org/c.png) ![logo](cid:logo@box)" }).html,
    );
    expect(body).toContain('src="https://example.org/c.png"');
    expect(body).toContain('src="cid:logo@box"');
  });

  it("renders GFM task lists and tables without form elements", () => {
    const { html } = renderAgentEmail({
      markdown: "- [x] done\n- [ ] todo\n\n| a | b |\n|---|---|\n| 1 | 2 |",
    });
    expect(html).toContain("☑ done");
    expect(html).toContain("☐ todo");
    expect(html).not.toContain("<input");
    expect(html).toMatch(/<td style="[^"]+">2<\/td>/);
  });

  it("produces a readable plain-text version", () => {
    const { text } = renderAgentEmail({
      markdown: [
        "# Weekly report",
        "",
        "Revenue is **up** &amp; costs are *down* &copy; [dashboard](https://example.org/d).",
        "See <https://example.org/raw>.",
        "",
        "1. first",
        "2. second",
        "   - nested",
        "",
        "> quoted line",
        "",
        "```",
        "npm test",
        "```",
        "",
        "| name | value |",
        "|------|-------|",
        "| cpu  | 3%    |",
        "",
        "<script>alert(1)</script>",
        "Bye<br>now",
      ].join("\n"),
    });
    expect(text).toBe(
      [
        "Weekly report",
        "=============",
        "",
        "Revenue is up & costs are down © dashboard (https://example.org/d).",
        "See https://example.org/raw.",
        "",
        "1. first",
        "2. second",
        "   - nested",
        "",
        "> quoted line",
        "",
        "    npm test",
        "",
        "name | value",
        "-----|------",
        "cpu  | 3%",
        "",
        "Bye",
        "now",
        "",
      ].join("\n"),
    );
  });
});
