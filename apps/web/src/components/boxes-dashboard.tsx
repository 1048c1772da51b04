"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useRef, useState } from "react";
import { boxesApi, isUnauthorized } from "@/lib/api-client";
import { errorMessage } from "@/lib/api-error";
import { type Box, isTransitional } from "@/lib/box";
import { BoxActions } from "./box-actions";
import { CreateBoxForm } from "./create-box-form";
import { RelativeTime } from "./relative-time";
import { StatusBadge } from "./status-badge";
import { usePolling } from "./use-polling";

const POLL_INTERVAL_MS = 3000;

function newestFirst(boxes: Box[]): Box[] {
  return [...boxes].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

function upsert(boxes: Box[], box: Box): Box[] {
  return newestFirst([box, ...boxes.filter((existing) => existing.id !== box.id)]);
}

export function BoxesDashboard({
  initialBoxes,
  initialError,
}: {
  initialBoxes: Box[];
  initialError: string | null;
}) {
  const router = useRouter();
  const [boxes, setBoxes] = useState(() => newestFirst(initialBoxes));
  const [loadError, setLoadError] = useState(initialError);
  const [refreshing, setRefreshing] = useState(false);
  // A list request started before a create/delete must not overwrite the newer local state.
  const generation = useRef(0);
  const nameInputRef = useRef<HTMLInputElement>(null);

  const refresh = useCallback(async () => {
    const started = generation.current;
    try {
      const latest = await boxesApi.list();
      if (started === generation.current) {
        setBoxes(newestFirst(latest));
      }
      setLoadError(null);
    } catch (error) {
      if (isUnauthorized(error)) {
        router.replace("/sign-in");
        return;
      }
      setLoadError(errorMessage(error));
    }
  }, [router]);

  const applyChange = useCallback((box: Box) => {
    generation.current += 1;
    setBoxes((current) => upsert(current, box));
  }, []);

  const anyTransitional = boxes.some((box) => isTransitional(box.status));
  usePolling(refresh, anyTransitional || loadError ? POLL_INTERVAL_MS : null);

  useEffect(() => {
    const onVisible = () => {
      if (document.visibilityState === "visible") {
        void refresh();
      }
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => document.removeEventListener("visibilitychange", onVisible);
  }, [refresh]);

  async function retry() {
    setRefreshing(true);
    await refresh();
    setRefreshing(false);
  }

  return (
    <div className="stack">
      <div className="page-heading">
        <div>
          <h1>Boxes</h1>
          <p className="muted">Your agents, each in its own sandbox with its own email address.</p>
        </div>
        {anyTransitional ? (
          <span className="live-indicator" role="status">
            <span className="status-dot" aria-hidden="true" /> Updating live
          </span>
        ) : null}
      </div>

      <CreateBoxForm onCreated={applyChange} nameInputRef={nameInputRef} />

      {loadError ? (
        <div className="banner banner-error" role="alert" data-testid="boxes-load-error">
          <span>Could not load your boxes: {loadError}</span>
          <button type="button" className="button button-small" onClick={retry} disabled={refreshing}>
            {refreshing ? "Retrying…" : "Retry"}
          </button>
        </div>
      ) : null}

      {boxes.length === 0 && !loadError ? (
        <section className="card empty-state" data-testid="boxes-empty">
          <h2 className="card-title">No boxes yet</h2>
          <p className="muted">
            Give a box a name and it gets its own sandbox and email address, ready for work.
          </p>
          <button
            type="button"
            className="button button-primary"
            onClick={() => nameInputRef.current?.focus()}
          >
            Create your first box
          </button>
        </section>
      ) : null}

      {boxes.length > 0 ? (
        <section aria-labelledby="boxes-list-title">
          <h2 id="boxes-list-title" className="visually-hidden">
            Your boxes
          </h2>
          <ul className="box-list" data-testid="box-list">
            {boxes.map((box) => (
              <li
                key={box.id}
                className="card box-card"
                data-testid="box-item"
                data-box-id={box.id}
                data-status={box.status}
              >
                <div className="box-card-main">
                  <div className="box-card-title">
                    <Link
                      href={`/boxes/${encodeURIComponent(box.id)}`}
                      className="box-name"
                      data-testid="box-name"
                    >
                      {box.name}
                    </Link>
                    <StatusBadge status={box.status} />
                  </div>
                  <p className="box-address" data-testid="box-email">
                    {box.email}
                  </p>
                  <p className="muted small">
                    Created <RelativeTime iso={box.createdAt} />
                  </p>
                  {(box.status === "error" || box.status === "deleting") && box.errorMessage ? (
                    <p className="box-error" data-testid="box-error">
                      {box.errorMessage}
                    </p>
                  ) : null}
                </div>
                <BoxActions box={box} onChange={applyChange} />
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}
