"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { LogOutIcon } from "lucide-react";
import { useRouter } from "next/navigation";
import { toast } from "sonner";
import { Button } from "@/components/ui/button";
import { errorMessage } from "@/lib/api-error";

/**
 * Ends the session, forgets every answer cached for this user (the next one to sign in on this
 * browser must not see them), and goes to sign-in. A failure is announced in a toast, so the header's
 * button and its phone menu report it alike.
 */
export function useSignOut() {
  const router = useRouter();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async () => {
      // better-auth's client comes with the click: on the dashboard's pages signing out is its only
      // use, and it would add 12 kB gzip to every one of them.
      const { authClient } = await import("@/lib/auth-client");
      const { error } = await authClient.signOut();
      if (error) {
        throw new Error(error.message || `the server answered ${error.status}`);
      }
    },
    onSuccess: () => {
      queryClient.clear();
      router.replace("/sign-in");
      router.refresh();
    },
    onError: (error) => toast.error(`Sign out failed: ${errorMessage(error)}`),
  });
}

export function SignOutButton() {
  const signOut = useSignOut();
  const busy = signOut.isPending || signOut.isSuccess;
  return (
    <Button
      variant="outline"
      size="sm"
      onClick={() => signOut.mutate()}
      disabled={busy}
      data-testid="sign-out"
    >
      <LogOutIcon aria-hidden />
      {busy ? "Signing out…" : "Sign out"}
    </Button>
  );
}
