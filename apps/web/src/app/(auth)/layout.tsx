import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { SiteHeader } from "@/components/site-header";
import { getSession } from "@/lib/server-api";

export default async function AuthLayout({ children }: { children: ReactNode }) {
  // An unreachable API server must not hide the form; submitting it explains the problem.
  const session = await getSession().catch(() => null);
  if (session) {
    redirect("/");
  }
  return (
    <>
      <SiteHeader email={null} />
      <main className="flex justify-center px-4 py-10 sm:py-16">{children}</main>
    </>
  );
}
