import type { Metadata } from "next";
import { AuthForm } from "@/components/auth-form";
import { safeReturnPath } from "@/lib/return-path";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const params = await searchParams;
  const notice = params.registered ? "Your account was created. Sign in to continue." : null;
  return <AuthForm mode="sign-in" returnTo={safeReturnPath(params.next)} notice={notice} />;
}
