"use client";

import { usePathname, useRouter } from "next/navigation";
import { useCallback } from "react";
import { isUnauthorized } from "@/lib/api-client";

/**
 * Returns a handler for caught errors: when the session has expired it sends the user to sign in
 * (coming back to this page afterwards) and answers true, so the caller stops there.
 */
export function useAuthRedirect(): (error: unknown) => boolean {
  const router = useRouter();
  const pathname = usePathname();
  return useCallback(
    (error: unknown) => {
      if (!isUnauthorized(error)) {
        return false;
      }
      router.replace(`/sign-in?next=${encodeURIComponent(pathname || "/")}`);
      return true;
    },
    [router, pathname],
  );
}
