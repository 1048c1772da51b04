"use client";

import { LogOutIcon } from "lucide-react";
import Link from "next/link";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "@/components/ui/dropdown-menu";
import { NAV } from "@/lib/site-nav";
import { PhoneMenuButton } from "./phone-menu-button";
import { useSignOut } from "./sign-out-button";

/** Below the `sm` breakpoint the links, the email and sign-out fold into one menu. */
export function PhoneMenu({
  email,
  section,
  defaultOpen,
}: {
  email: string;
  section: string;
  defaultOpen: boolean;
}) {
  const signOut = useSignOut();
  return (
    // Not modal: a modal menu hides the page from assistive technology while its links stay focusable.
    <DropdownMenu modal={false} defaultOpen={defaultOpen}>
      <DropdownMenuTrigger asChild>
        <PhoneMenuButton />
      </DropdownMenuTrigger>
      <DropdownMenuContent align="end" className="w-64" data-testid="nav-menu-content">
        <DropdownMenuLabel
          className="truncate font-normal text-muted-foreground"
          data-testid="menu-user-email"
        >
          {email}
        </DropdownMenuLabel>
        <DropdownMenuSeparator />
        {NAV.map((item) => (
          <DropdownMenuItem key={item.href} asChild>
            <Link
              href={item.href}
              className="text-popover-foreground"
              aria-current={section === item.href ? "page" : undefined}
            >
              {item.label}
            </Link>
          </DropdownMenuItem>
        ))}
        <DropdownMenuSeparator />
        <DropdownMenuItem onSelect={() => signOut.mutate()} disabled={signOut.isPending}>
          <LogOutIcon aria-hidden />
          Sign out
        </DropdownMenuItem>
      </DropdownMenuContent>
    </DropdownMenu>
  );
}
