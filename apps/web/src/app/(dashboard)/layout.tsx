import type { ReactNode } from "react";
import { BudgetBanner } from "@/components/budget-banner";
import { ServerUnavailable } from "@/components/server-unavailable";
import { SiteHeader } from "@/components/site-header";
import { errorMessage } from "@/lib/api-error";
import { getSession, type Session } from "@/lib/server-api";

export default async function DashboardLayout({ children }: { children: ReactNode }) {
  let session: Session | null;
  try {
    session = await getSession();
  } catch (error) {
    return (
      <>
        <SiteHeader email={null} />
        <main className="container">
          <ServerUnavailable detail={errorMessage(error)} />
        </main>
      </>
    );
  }
  // Pages redirect signed-out visitors themselves, because only they know the path to come back to.
  return (
    <>
      <SiteHeader email={session?.user.email ?? null} />
      <main className="container">
        {session ? <BudgetBanner /> : null}
        {children}
      </main>
    </>
  );
}
