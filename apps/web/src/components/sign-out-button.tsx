"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { authApi } from "@/lib/api-client";
import { errorMessage } from "@/lib/api-error";

export function SignOutButton() {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function signOut() {
    setBusy(true);
    setError(null);
    try {
      await authApi.signOut();
      router.replace("/sign-in");
      router.refresh();
    } catch (caught) {
      setError(errorMessage(caught));
      setBusy(false);
    }
  }

  return (
    <>
      <button
        type="button"
        className="button button-small"
        onClick={signOut}
        disabled={busy}
        data-testid="sign-out"
      >
        {busy ? "Signing out…" : "Sign out"}
      </button>
      {error ? (
        <span className="form-error small" role="alert">
          Sign out failed: {error}
        </span>
      ) : null}
    </>
  );
}
