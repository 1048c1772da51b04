import type { Metadata } from "next";
import { AuthForm } from "@/components/auth-form";
import { safeReturnPath } from "@/lib/return-path";

export const metadata: Metadata = { title: "Sign up" };

export default async function SignUpPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const params = await searchParams;
  return <AuthForm mode="sign-up" returnTo={safeReturnPath(params.next)} />;
}
