"use client";

import { CheckIcon, CopyIcon, XIcon } from "lucide-react";
import { useEffect, useState } from "react";
import { Button } from "@/components/ui/button";

type CopyState = "idle" | "copied" | "failed";

const SHOWN: Record<CopyState, { icon: typeof CopyIcon; text: string }> = {
  idle: { icon: CopyIcon, text: "Copy" },
  copied: { icon: CheckIcon, text: "Copied" },
  failed: { icon: XIcon, text: "Copy failed" },
};

/** Copies `value` to the clipboard and says so for a moment (also to screen readers). */
export function CopyButton({ value, label, testId }: { value: string; label: string; testId?: string }) {
  const [state, setState] = useState<CopyState>("idle");

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

  const { icon: Icon, text } = SHOWN[state];
  return (
    <Button variant="ghost" size="sm" onClick={copy} aria-label={label} title={label} data-testid={testId}>
      <Icon aria-hidden />
      <span aria-live="polite">{text}</span>
    </Button>
  );
}
