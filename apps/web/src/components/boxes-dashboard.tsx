"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRef } from "react";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { type Box, isTransitional } from "@/lib/box";
import { boxesQuery } from "@/lib/boxes-query";
import { BoxActions } from "./box-actions";
import { CreateBoxForm } from "./create-box-form";
import { ErrorState } from "./panel-states";
import { RelativeTime } from "./relative-time";
import { StatusBadge } from "./status-badge";

function BoxCard({ box }: { box: Box }) {
  return (
    <li
      className="flex flex-col gap-3 rounded-xl border bg-card p-4 shadow-sm sm:flex-row sm:items-start sm:justify-between"
      data-testid="box-item"
      data-box-id={box.id}
      data-status={box.status}
    >
      <div className="grid min-w-0 gap-1">
        <div className="flex flex-wrap items-center gap-2">
          <Link
            href={`/boxes/${encodeURIComponent(box.id)}`}
            className="font-semibold hover:underline"
            data-testid="box-name"
          >
            {box.name}
          </Link>
          <StatusBadge status={box.status} />
        </div>
        <p className="truncate font-mono text-sm" data-testid="box-email">
          {box.email}
        </p>
        <p className="text-xs text-muted-foreground">
          Created <RelativeTime iso={box.createdAt} />
        </p>
        {(box.status === "error" || box.status === "deleting") && box.errorMessage ? (
          <p className="text-sm text-destructive" data-testid="box-error">
            {box.errorMessage}
          </p>
        ) : null}
      </div>
      <BoxActions box={box} />
    </li>
  );
}

export function BoxesDashboard({ initialBoxes }: { initialBoxes: Box[] | null }) {
  const boxes = useQuery({ ...boxesQuery(), ...(initialBoxes ? { initialData: initialBoxes } : {}) });
  const nameInputRef = useRef<HTMLInputElement>(null);
  const list = boxes.data ?? [];
  const anyTransitional = list.some((box) => isTransitional(box.status));

  return (
    <div className="grid gap-6">
      <div className="flex flex-wrap items-end justify-between gap-2">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">Boxes</h1>
          <p className="text-muted-foreground">
            Your agents, each in its own sandbox with its own email address.
          </p>
        </div>
        {anyTransitional ? (
          <span className="flex items-center gap-2 text-sm text-muted-foreground" role="status">
            <span className="size-2 animate-pulse rounded-full bg-warning" aria-hidden /> Updating live
          </span>
        ) : null}
      </div>

      <CreateBoxForm nameInputRef={nameInputRef} />

      {boxes.isError ? (
        <ErrorState
          title="Could not load your boxes"
          error={boxes.error}
          onRetry={() => boxes.refetch()}
          testId="boxes-load-error"
        />
      ) : null}

      {boxes.isSuccess && list.length === 0 ? (
        <Card data-testid="boxes-empty">
          <CardHeader>
            <CardTitle>No boxes yet</CardTitle>
            <CardDescription>
              Give a box a name and it gets its own sandbox and email address, ready for work.
            </CardDescription>
          </CardHeader>
          <CardContent>
            <Button onClick={() => nameInputRef.current?.focus()}>Create your first box</Button>
          </CardContent>
        </Card>
      ) : null}

      {list.length > 0 ? (
        <section aria-labelledby="boxes-list-title">
          <h2 id="boxes-list-title" className="sr-only">
            Your boxes
          </h2>
          <ul className="grid gap-3" data-testid="box-list">
            {list.map((box) => (
              <BoxCard key={box.id} box={box} />
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}
