"use client";

import { useQuery } from "@tanstack/react-query";
import { AlertCircleIcon } from "lucide-react";
import dynamic from "next/dynamic";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { type ReactNode, useState } from "react";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { asApiError, errorMessage } from "@/lib/api-error";
import type { Box } from "@/lib/box";
import { BOX_TAB_LABELS, BOX_TABS, type BoxTab, parseBoxTab, replaceSearchParam } from "@/lib/box-tabs";
import { boxQuery } from "@/lib/boxes-query";
import { BoxMissing } from "./box/box-missing";
import { OverviewPanel } from "./box/overview-panel";
import { BoxActions } from "./box-actions";
import { LoadingState } from "./panel-states";
import { StatusBadge } from "./status-badge";

/**
 * Each tab but the overview is its own chunk, loaded when the tab is first shown: the box page's
 * first JS carries the page and the overview only, not ten panels with their forms and schemas.
 */
function PanelLoading() {
  return <LoadingState label="Loading…" />;
}
const AccessPanel = dynamic(() => import("./box/access-panel").then((m) => m.AccessPanel), {
  loading: PanelLoading,
});
const AgentConfigPanel = dynamic(() => import("./box/agent-config-panel").then((m) => m.AgentConfigPanel), {
  loading: PanelLoading,
});
const BoxSettingsPanel = dynamic(() => import("./box/box-settings-panel").then((m) => m.BoxSettingsPanel), {
  loading: PanelLoading,
});
const ChatPanel = dynamic(() => import("./box/chat-panel").then((m) => m.ChatPanel), {
  loading: PanelLoading,
});
const CronjobsPanel = dynamic(() => import("./box/cronjobs-panel").then((m) => m.CronjobsPanel), {
  loading: PanelLoading,
});
const EmailPanel = dynamic(() => import("./box/email-panel").then((m) => m.EmailPanel), {
  loading: PanelLoading,
});
const EnvVarsPanel = dynamic(() => import("./box/env-vars-panel").then((m) => m.EnvVarsPanel), {
  loading: PanelLoading,
});
const FilesPanel = dynamic(() => import("./box/files-panel").then((m) => m.FilesPanel), {
  loading: PanelLoading,
});
const RunsPanel = dynamic(() => import("./box/runs-panel").then((m) => m.RunsPanel), {
  loading: PanelLoading,
});

/** What each tab shows; `active` lets a panel stop polling while it is hidden. */
const PANELS: Record<BoxTab, (box: Box, active: boolean) => ReactNode> = {
  overview: (box) => <OverviewPanel box={box} />,
  chat: (box, active) => <ChatPanel box={box} active={active} />,
  runs: (box) => <RunsPanel boxId={box.id} />,
  email: (box, active) => <EmailPanel box={box} active={active} />,
  cronjobs: (box) => <CronjobsPanel boxId={box.id} />,
  files: (box, active) => <FilesPanel box={box} active={active} />,
  env: (box) => <EnvVarsPanel boxId={box.id} />,
  agent: (box) => <AgentConfigPanel boxId={box.id} />,
  access: (box) => <AccessPanel box={box} />,
  settings: (box) => <BoxSettingsPanel boxId={box.id} />,
};

function isNotFound(error: unknown): boolean {
  return asApiError(error)?.status === 404;
}

/** The box, kept fresh while it changes on its own; a 404 (deleted elsewhere) ends the polling. */
function useBox(initialBox: Box) {
  const options = boxQuery(initialBox.id);
  return useQuery({
    ...options,
    initialData: initialBox,
    refetchInterval: (query) => (isNotFound(query.state.error) ? false : options.refetchInterval(query)),
  });
}

function BoxBanners({ box, refreshError }: { box: Box; refreshError: unknown }) {
  return (
    <>
      {refreshError ? (
        <Alert variant="destructive">
          <AlertCircleIcon aria-hidden />
          <AlertDescription>Could not refresh this box: {errorMessage(refreshError)}</AlertDescription>
        </Alert>
      ) : null}
      {box.status === "error" ? (
        <Alert variant="destructive" data-testid="box-error">
          <AlertCircleIcon aria-hidden />
          <AlertTitle>Deployment failed</AlertTitle>
          <AlertDescription>
            <p>{box.errorMessage ?? "No details were recorded."}</p>
            <p>Fix the cause, then redeploy.</p>
          </AlertDescription>
        </Alert>
      ) : null}
      {box.status === "deleting" ? (
        <Alert
          variant={box.errorMessage ? "destructive" : "default"}
          role="status"
          data-testid="box-deleting"
        >
          <AlertDescription>
            <p>This box is being deleted.</p>
            {box.errorMessage ? <p>{box.errorMessage}</p> : null}
          </AlertDescription>
        </Alert>
      ) : null}
    </>
  );
}

export function BoxDetail({ initialBox, initialTab }: { initialBox: Box; initialTab: BoxTab }) {
  const router = useRouter();
  const query = useBox(initialBox);
  const box = query.data;
  const [tab, setTab] = useState<BoxTab>(initialTab);
  // A tab is rendered on its first visit and kept mounted, so a pending chat or a half-filled form survives a switch.
  const [visited, setVisited] = useState<ReadonlySet<BoxTab>>(() => new Set([initialTab]));

  function changeTab(value: string) {
    const next = parseBoxTab(value);
    setTab(next);
    setVisited((seen) => (seen.has(next) ? seen : new Set([...seen, next])));
    // Kept on reload and in shared links; the overview is the page without `?tab=`.
    replaceSearchParam("tab", next === "overview" ? null : next);
  }

  if (isNotFound(query.error)) {
    return (
      <BoxMissing
        title={`“${box.name}” has been deleted`}
        reason="The box and its sandbox are gone."
        testId="box-gone"
      />
    );
  }

  return (
    <div className="grid min-w-0 gap-6" data-testid="box-detail" data-box-id={box.id}>
      <nav aria-label="Breadcrumb" className="text-sm text-muted-foreground">
        <Link href="/" className="text-muted-foreground hover:text-foreground hover:underline">
          Boxes
        </Link>{" "}
        <span aria-hidden="true">/</span> <span className="text-foreground">{box.name}</span>
      </nav>

      <div className="flex flex-col gap-3 sm:flex-row sm:items-start sm:justify-between">
        <div className="grid min-w-0 gap-1">
          <div className="flex flex-wrap items-center gap-2">
            <h1 className="text-2xl font-semibold tracking-tight break-words" data-testid="box-detail-name">
              {box.name}
            </h1>
            {/* A live region: a deploy finishing or failing is announced. */}
            <span role="status" aria-live="polite">
              <StatusBadge status={box.status} />
            </span>
          </div>
          <p className="truncate font-mono text-sm text-muted-foreground" data-testid="box-detail-email">
            {box.email}
          </p>
        </div>
        <BoxActions
          box={box}
          onChange={(updated) => {
            if (updated.status === "deleting") {
              router.push("/");
            }
          }}
        />
      </div>

      <BoxBanners box={box} refreshError={query.isRefetchError ? query.error : null} />

      <Tabs value={tab} onValueChange={changeTab} className="min-w-0">
        <TabsList aria-label="Box sections" className="w-full justify-start" data-testid="box-tabs">
          {BOX_TABS.map((id) => (
            <TabsTrigger key={id} value={id} className="flex-none" data-testid={`tab-${id}`}>
              {BOX_TAB_LABELS[id]}
            </TabsTrigger>
          ))}
        </TabsList>
        {BOX_TABS.filter((id) => visited.has(id)).map((id) => (
          <TabsContent
            key={id}
            value={id}
            forceMount
            hidden={id !== tab}
            className="min-w-0"
            data-testid={`panel-${id}`}
          >
            {PANELS[id](box, id === tab)}
          </TabsContent>
        ))}
      </Tabs>
    </div>
  );
}
