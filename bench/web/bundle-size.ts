import { readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

export interface ScriptWeight {
  files: number;
  rawBytes: number;
  gzipBytes: number;
  /** Each file's URL path and gzip size, largest first. */
  largest: { path: string; gzipBytes: number }[];
}

/** The `<script src>` URLs an HTML page loads (Next's chunks under `/_next/static/`). */
export function scriptSources(html: string): string[] {
  const sources = new Set<string>();
  for (const match of html.matchAll(/<script\b[^>]*\bsrc="([^"]+\.js)(?:\?[^"]*)?"/g)) {
    const source = match[1];
    if (source) {
      sources.add(new URL(source, "http://page.invalid").pathname);
    }
  }
  return [...sources];
}

/**
 * What the scripts weigh as shipped: each read from the build output (`/_next/static/x` is
 * `.next/static/x`) and gzipped at zlib's default level, as `next start` compresses them.
 */
export function weighScripts(webDir: string, urlPaths: readonly string[]): ScriptWeight {
  const weights = urlPaths.map((urlPath) => {
    if (!urlPath.startsWith("/_next/static/")) {
      throw new Error(`not a built script: ${urlPath}`);
    }
    const file = path.join(
      webDir,
      ".next/static",
      decodeURIComponent(urlPath.slice("/_next/static/".length)),
    );
    const bytes = readFileSync(file);
    return { path: urlPath, rawBytes: bytes.length, gzipBytes: gzipSync(bytes).length };
  });
  return {
    files: weights.length,
    rawBytes: weights.reduce((sum, weight) => sum + weight.rawBytes, 0),
    gzipBytes: weights.reduce((sum, weight) => sum + weight.gzipBytes, 0),
    largest: [...weights]
      .sort((a, b) => b.gzipBytes - a.gzipBytes)
      .slice(0, 5)
      .map(({ path: urlPath, gzipBytes }) => ({ path: urlPath, gzipBytes })),
  };
}
