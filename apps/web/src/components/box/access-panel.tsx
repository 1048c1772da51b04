"use client";

import { useQuery } from "@tanstack/react-query";
import { EyeIcon, EyeOffIcon } from "lucide-react";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import type { Box } from "@/lib/box";
import { orpc } from "@/lib/orpc";
import { CopyButton } from "../copy-button";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { NOT_RUNNING } from "./not-running";
// Loads xterm.js on its own, only when shown: never in the box page's first JS.
import { Terminal } from "./terminal";

const MASK = "••••••••••••";

function Password({ password }: { password: string }) {
  const [revealed, setRevealed] = useState(false);
  return (
    <div className="flex flex-wrap items-center gap-2">
      <code
        className="min-w-0 rounded-md bg-muted px-2 py-1 font-mono text-sm break-all"
        data-testid="access-password"
        data-revealed={revealed}
      >
        {revealed ? (
          password
        ) : (
          <>
            <span aria-hidden="true">{MASK}</span>
            <span className="sr-only">hidden</span>
          </>
        )}
      </code>
      <Button
        variant="outline"
        size="sm"
        onClick={() => setRevealed(!revealed)}
        aria-pressed={revealed}
        data-testid="access-password-reveal"
      >
        {revealed ? <EyeOffIcon aria-hidden /> : <EyeIcon aria-hidden />}
        {revealed ? "Hide" : "Reveal"}
      </Button>
      <CopyButton value={password} label="Copy the password" testId="access-password-copy" />
    </div>
  );
}

function LoginPassword({ boxId }: { boxId: string }) {
  const access = useQuery(orpc.deploy.access.queryOptions({ input: { boxId } }));
  if (access.isPending) {
    return <LoadingState label="Loading the password…" testId="access-loading" />;
  }
  if (access.isError) {
    return (
      <ErrorState
        title="Could not load the password"
        error={access.error}
        onRetry={access.refetch}
        testId="access-error"
      />
    );
  }
  if (access.data.password === null) {
    return (
      <EmptyState title="No password yet" testId="access-no-password">
        The deploy's “Enable access” step sets it; redeploy if it was skipped.
      </EmptyState>
    );
  }
  return <Password password={access.data.password} />;
}

/** How the owner gets into the box: its login password and a shell in the browser. */
export function AccessPanel({ box }: { box: Box }) {
  return (
    <div className="grid grid-cols-1 gap-6" data-testid="access">
      <Card role="region" aria-labelledby="access-password-title">
        <CardHeader>
          <CardTitle id="access-password-title">Login password</CardTitle>
          <CardDescription>
            The password of the box's user, for tools that ask for one (sudo, a login prompt). Keep it to
            yourself.
          </CardDescription>
        </CardHeader>
        <CardContent>
          <LoginPassword boxId={box.id} />
        </CardContent>
      </Card>
      <Card>
        <CardHeader>
          <CardTitle>Shell</CardTitle>
          <CardDescription>A shell in the box, as its user, in its home folder.</CardDescription>
        </CardHeader>
        <CardContent>
          {box.status === "running" ? (
            <Terminal boxId={box.id} />
          ) : (
            <EmptyState title="The terminal opens once the box is running." testId="terminal-unavailable">
              {NOT_RUNNING[box.status]}
            </EmptyState>
          )}
        </CardContent>
      </Card>
    </div>
  );
}
