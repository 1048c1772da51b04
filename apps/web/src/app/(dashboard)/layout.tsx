import type { ReactNode } from "react";
import { BudgetBanner } from "@/components/budget-banner";
import { ServerUnavailable } from "@/components/server-unavailable";
import { SiteHeader } from "@/components/site-header";
import { errorMessage } from "@/lib/api-error";
import { getSession, type Session } from "@/lib/server-api";

function Page({ email, children }: { email: string | null; children: ReactNode }) {
  return (
    <>
      <SiteHeader email={email} />
      <main className="mx-auto grid w-full max-w-5xl grid-cols-1 gap-6 px-4 py-6">{children}</main>
    </>
  );
}

export default async function DashboardLayout({ children }: { children: ReactNode }) {
  let session: Session | null;
  try {
    session = await getSession();
  } catch (error) {
    return (
      <Page email={null}>
        <ServerUnavailable detail={errorMessage(error)} />
      </Page>
    );
  }
  // Pages redirect signed-out visitors themselves, because only they know the path to come back to.
  return (
    <Page email={session?.user.email ?? null}>
      {session ? <BudgetBanner /> : null}
      {children}
    </Page>
  );
}
