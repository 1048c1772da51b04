"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useState } from "react";
import { boxesApi, isUnauthorized } from "@/lib/api-client";
import { ApiError, errorMessage } from "@/lib/api-error";
import { type Box, isTransitional } from "@/lib/box";
import { BOX_TAB_LABELS, type BoxTab } from "@/lib/box-tabs";
import { AgentConfigPanel } from "./box/agent-config-panel";
import { ChatPanel } from "./box/chat-panel";
import { CronjobsPanel } from "./box/cronjobs-panel";
import { EmailPanel } from "./box/email-panel";
import { EnvVarsPanel } from "./box/env-vars-panel";
import { FilesPanel } from "./box/files-panel";
import { OverviewPanel } from "./box/overview-panel";
import { BoxActions } from "./box-actions";
import { StatusBadge } from "./status-badge";
import { Tabs } from "./tabs";
import { usePolling } from "./use-polling";

/** A deploy moves a step every second or so; deleting takes longer. */
const DEPLOY_POLL_MS = 1500;
const POLL_INTERVAL_MS = 3000;

export function BoxDetail({ initialBox, initialTab }: { initialBox: Box; initialTab: BoxTab }) {
  const router = useRouter();
  const [box, setBox] = useState(initialBox);
  const [tab, setTab] = useState<BoxTab>(initialTab);

  const changeTab = useCallback((next: BoxTab) => {
    setTab(next);
    // Keeps the tab on reload and in shared links without a navigation.
    const url = new URL(window.location.href);
    if (next === "overview") {
      url.searchParams.delete("tab");
    } else {
      url.searchParams.set("tab", next);
    }
    window.history.replaceState(null, "", `${url.pathname}${url.search}${url.hash}`);
  }, []);
  const [gone, setGone] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      setBox(await boxesApi.get(initialBox.id));
      setLoadError(null);
    } catch (error) {
      if (isUnauthorized(error)) {
        router.replace(`/sign-in?next=${encodeURIComponent(`/boxes/${initialBox.id}`)}`);
        return;
      }
      if (error instanceof ApiError && error.status === 404) {
        setGone(true);
        return;
      }
      setLoadError(errorMessage(error));
    }
  }, [initialBox.id, router]);

  const deploying = box.status === "pending" || box.status === "deploying";
  usePolling(
    refresh,
    gone
      ? null
      : deploying
        ? DEPLOY_POLL_MS
        : isTransitional(box.status) || loadError
          ? POLL_INTERVAL_MS
          : null,
  );

  if (gone) {
    return (
      <section className="card empty-state" data-testid="box-gone">
        <h1 className="card-title">“{box.name}” has been deleted</h1>
        <p className="muted">The box and its sandbox are gone.</p>
        <Link href="/" className="button button-primary">
          Back to your boxes
        </Link>
      </section>
    );
  }

  return (
    <div className="stack" data-testid="box-detail" data-box-id={box.id}>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link href="/">Boxes</Link> <span aria-hidden="true">/</span> <span>{box.name}</span>
      </nav>

      <div className="page-heading">
        <div>
          <div className="box-card-title">
            <h1 data-testid="box-detail-name">{box.name}</h1>
            <StatusBadge status={box.status} />
          </div>
          <p className="box-address" data-testid="box-detail-email">
            {box.email}
          </p>
        </div>
        <BoxActions
          box={box}
          onChange={(updated) => {
            setBox(updated);
            if (updated.status === "deleting") {
              router.push("/");
            }
          }}
        />
      </div>

      {loadError ? (
        <div className="banner banner-error" role="alert">
          Could not refresh this box: {loadError}
        </div>
      ) : null}

      {box.status === "error" ? (
        <div className="banner banner-error banner-block" role="alert" data-testid="box-error">
          <p>
            <strong>Deployment failed</strong>
          </p>
          <p>{box.errorMessage ?? "No details were recorded."}</p>
          <p>Fix the cause, then redeploy.</p>
        </div>
      ) : null}
      {box.status === "deleting" ? (
        <div
          className={`banner banner-block${box.errorMessage ? " banner-error" : ""}`}
          role="status"
          data-testid="box-deleting"
        >
          <p>This box is being deleted.</p>
          {box.errorMessage ? <p>{box.errorMessage}</p> : null}
        </div>
      ) : null}

      <Tabs
        label="Box sections"
        active={tab}
        onChange={changeTab}
        tabs={[
          { id: "overview", label: BOX_TAB_LABELS.overview, render: () => <OverviewPanel box={box} /> },
          {
            id: "chat",
            label: BOX_TAB_LABELS.chat,
            render: (active) => <ChatPanel box={box} active={active} />,
          },
          {
            id: "files",
            label: BOX_TAB_LABELS.files,
            render: (active) => <FilesPanel box={box} active={active} />,
          },
          {
            id: "email",
            label: BOX_TAB_LABELS.email,
            render: (active) => <EmailPanel box={box} active={active} />,
          },
          { id: "cronjobs", label: BOX_TAB_LABELS.cronjobs, render: () => <CronjobsPanel boxId={box.id} /> },
          { id: "env", label: BOX_TAB_LABELS.env, render: () => <EnvVarsPanel boxId={box.id} /> },
          { id: "agent", label: BOX_TAB_LABELS.agent, render: () => <AgentConfigPanel boxId={box.id} /> },
        ]}
      />
    </div>
  );
}
