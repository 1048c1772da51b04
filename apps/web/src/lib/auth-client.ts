import { createAuthClient } from "better-auth/react";

/** better-auth's React client on the dashboard's same-origin `/api/auth` proxy. */
export const authClient = createAuthClient({
  fetchOptions: { credentials: "same-origin" },
});
