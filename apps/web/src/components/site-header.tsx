"use client";

import { BoxIcon } from "lucide-react";
import dynamic from "next/dynamic";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { currentSection, NAV } from "@/lib/site-nav";
import { cn } from "@/lib/utils";
import { PhoneMenuButton } from "./phone-menu-button";
import { SignOutButton } from "./sign-out-button";

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

const PhoneMenu = dynamic(() => import("./phone-menu").then((m) => m.PhoneMenu), {
  loading: () => <PhoneMenuButton aria-haspopup="menu" aria-expanded={false} />,
});

/**
 * Below the `sm` breakpoint the links, the email and sign-out fold into one menu. Its code (Radix's
 * menu and the positioning under it, 15 kB gzip) comes with the first tap on the button: most
 * visits never open it, and every page would carry it.
 */
function PhoneNav({ email, section }: { email: string; section: string }) {
  const [wanted, setWanted] = useState(false);
  return (
    <div className="ml-auto sm:hidden">
      {wanted ? (
        <PhoneMenu email={email} section={section} defaultOpen />
      ) : (
        <PhoneMenuButton aria-haspopup="menu" aria-expanded={false} onClick={() => setWanted(true)} />
      )}
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
            <PhoneNav email={email} section={section} />
          </>
        ) : null}
      </div>
    </header>
  );
}
