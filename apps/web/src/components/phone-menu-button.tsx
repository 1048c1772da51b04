"use client";

import { MenuIcon } from "lucide-react";
import type { ComponentProps } from "react";
import { Button } from "@/components/ui/button";

/** The phone header's one button; the same before the menu's code has loaded and as the menu's trigger. */
export function PhoneMenuButton(props: ComponentProps<typeof Button>) {
  return (
    <Button variant="outline" size="icon" aria-label="Menu" data-testid="nav-menu" {...props}>
      <MenuIcon aria-hidden />
    </Button>
  );
}
