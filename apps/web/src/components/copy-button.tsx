"use client";

import { useEffect, useState } from "react";
import { CopyIcon } from "./icons";

/** Copies `value` to the clipboard and says so for a moment (also to screen readers). */
export function CopyButton({ value, label, testId }: { value: string; label: string; testId?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");

  useEffect(() => {
    if (state === "idle") {
      return;
    }
    const timer = setTimeout(() => setState("idle"), 2000);
    return () => clearTimeout(timer);
  }, [state]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setState("copied");
    } catch {
      // No clipboard permission (or an insecure origin): the user can still select the text.
      setState("failed");
    }
  }

  return (
    <button
      type="button"
      className="button button-small button-quiet"
      onClick={copy}
      aria-label={label}
      title={label}
      data-testid={testId}
    >
      <CopyIcon />
      <span aria-live="polite">
        {state === "copied" ? "Copied" : state === "failed" ? "Copy failed" : "Copy"}
      </span>
    </button>
  );
}
