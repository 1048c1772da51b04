"use client";

import { Toaster as Sonner, type ToasterProps } from "sonner";

/** Toasts for what finished in the background ("Saved", "Deploy started"); errors stay beside their form. */
function Toaster(props: ToasterProps) {
  return (
    <Sonner
      theme="system"
      className="toaster group"
      style={
        {
          "--normal-bg": "var(--popover)",
          "--normal-text": "var(--popover-foreground)",
          "--normal-border": "var(--border)",
        } as React.CSSProperties
      }
      {...props}
    />
  );
}

export { Toaster };
