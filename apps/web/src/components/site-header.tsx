import Link from "next/link";
import { SignOutButton } from "./sign-out-button";

export function SiteHeader({ email }: { email: string | null }) {
  return (
    <header className="site-header">
      <div className="container site-header-inner">
        <Link href="/" className="brand">
          <span className="brand-mark" aria-hidden="true">
            ▣
          </span>
          VPS Claude
        </Link>
        {email ? (
          <nav className="site-nav" aria-label="Main">
            <Link href="/">Boxes</Link>
            <Link href="/settings/usage" data-testid="nav-usage">
              Usage
            </Link>
            <Link href="/settings" data-testid="nav-settings">
              Settings
            </Link>
          </nav>
        ) : null}
        {email ? (
          <div className="site-header-user">
            <span className="user-email" data-testid="user-email" title={email}>
              {email}
            </span>
            <SignOutButton />
          </div>
        ) : null}
      </div>
    </header>
  );
}
