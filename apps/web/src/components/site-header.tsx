"use client";

import { BoxIcon, LogOutIcon, MenuIcon } from "lucide-react";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { Button } from "@/components/ui/button";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "@/components/ui/dropdown-menu";
import { cn } from "@/lib/utils";
import { SignOutButton, useSignOut } from "./sign-out-button";

const NAV = [
  { href: "/", label: "Boxes", testId: "nav-boxes" },
  { href: "/settings/usage", label: "Usage", testId: "nav-usage" },
  { href: "/settings", label: "Settings", testId: "nav-settings" },
] as const;

/** The section a path belongs to: the longest nav link it starts with (Usage lives under Settings). */
function currentSection(pathname: string): string {
  const matches = NAV.filter(({ href }) =>
    href === "/" ? pathname === "/" || pathname.startsWith("/boxes") : pathname.startsWith(href),
  );
  return matches.reduce((best, item) => (item.href.length > best.length ? item.href : best), "");
}

function DesktopNav({ email, section }: { email: string; section: string }) {
  return (
    <>
      <nav className="hidden items-center gap-1 sm:flex" aria-label="Main">
        {NAV.map((item) => (
          <Button
            key={item.href}
            asChild
            variant="ghost"
            size="sm"
            className={cn("text-foreground", section === item.href && "bg-accent text-accent-foreground")}
          >
            <Link
              href={item.href}
              aria-current={section === item.href ? "page" : undefined}
              data-testid={item.testId}
            >
              {item.label}
            </Link>
          </Button>
        ))}
      </nav>
      <div className="ml-auto hidden min-w-0 items-center gap-3 sm:flex">
        <span className="truncate text-sm text-muted-foreground" data-testid="user-email" title={email}>
          {email}
        </span>
        <SignOutButton />
      </div>
    </>
  );
}

/** Below the `sm` breakpoint the links, the email and sign-out fold into one menu. */
function PhoneMenu({ email, section }: { email: string; section: string }) {
  const signOut = useSignOut();
  return (
    <div className="ml-auto sm:hidden">
      {/* Not modal: a modal menu hides the page from assistive technology while its links stay focusable. */}
      <DropdownMenu modal={false}>
        <DropdownMenuTrigger asChild>
          <Button variant="outline" size="icon" aria-label="Menu" data-testid="nav-menu">
            <MenuIcon aria-hidden />
          </Button>
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
    </div>
  );
}

export function SiteHeader({ email }: { email: string | null }) {
  const section = currentSection(usePathname() ?? "");
  return (
    <header className="border-b bg-card">
      <div className="mx-auto flex h-14 w-full max-w-5xl items-center gap-4 px-4">
        <Link href="/" className="flex items-center gap-2 font-semibold text-foreground">
          <BoxIcon className="size-5 text-primary" aria-hidden />
          VPS Claude
        </Link>
        {email ? (
          <>
            <DesktopNav email={email} section={section} />
            <PhoneMenu email={email} section={section} />
          </>
        ) : null}
      </div>
    </header>
  );
}
