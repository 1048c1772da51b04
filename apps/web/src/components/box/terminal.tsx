"use client";

import dynamic from "next/dynamic";

/**
 * The box's shell in the page. xterm.js only runs in a browser and is heavy, so it loads on its
 * own when this is shown, never in the box page's first JS.
 */
export const Terminal = dynamic<{ boxId: string }>(
  () => import("./terminal-session").then((module) => module.TerminalSession),
  { ssr: false, loading: () => <p className="text-muted-foreground text-sm">Loading the terminal…</p> },
);
