"use client";

import dynamic from "next/dynamic";
import { useState } from "react";
import type { ConfirmDialogProps } from "./confirm-dialog-view";

const ConfirmDialogView = dynamic(() => import("./confirm-dialog-view").then((m) => m.ConfirmDialogView));

/**
 * A destructive step asked once more. The dialog's code (Radix's focus trap, scroll lock and
 * layers) comes with its first opening, and stays mounted after so it can animate out: the box page
 * and the run page would otherwise carry it for a button that is seldom pressed.
 */
export function ConfirmDialog(props: ConfirmDialogProps) {
  const [opened, setOpened] = useState(props.open);
  if (props.open && !opened) {
    setOpened(true);
  }
  return opened ? <ConfirmDialogView {...props} /> : null;
}
