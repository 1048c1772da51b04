"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { FileIcon, FolderIcon, LinkIcon, PlusIcon, RefreshCwIcon } from "lucide-react";
import { useId, useState } from "react";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { asApiError } from "@/lib/api-error";
import type { Box } from "@/lib/box";
import type { FileEntry } from "@/lib/box-api";
import { BOX_HOME, displayPath, explainFilesError, pathCrumbs } from "@/lib/box-files";
import { orpc } from "@/lib/orpc";
import { cn } from "@/lib/utils";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { FileViewer } from "./file-viewer";
import { NewFileForm } from "./new-file-form";
import { NOT_RUNNING } from "./not-running";

const ENTRY_KIND: Record<Exclude<FileEntry["type"], "other">, string> = {
  dir: "folder",
  file: "file",
  symlink: "link",
};

const ENTRY_ICON: Record<FileEntry["type"], typeof FileIcon> = {
  dir: FolderIcon,
  file: FileIcon,
  symlink: LinkIcon,
  other: FileIcon,
};

function PathBreadcrumb({ dir, onNavigate }: { dir: string; onNavigate: (dir: string) => void }) {
  const crumbs = pathCrumbs(dir);
  return (
    <nav aria-label="Current folder" className="min-w-0" data-testid="files-breadcrumb">
      <ol className="flex flex-wrap items-center gap-1 font-mono text-sm">
        {crumbs.map((crumb, index) => (
          <li key={crumb.path} className="flex items-center gap-1">
            {index > 0 ? (
              <span aria-hidden="true" className="text-muted-foreground">
                /
              </span>
            ) : null}
            {index === crumbs.length - 1 ? (
              <span aria-current="location" className="font-medium break-all" data-testid="files-crumb">
                {crumb.label}
              </span>
            ) : (
              <button
                type="button"
                className="rounded-sm text-primary underline-offset-4 hover:underline focus-visible:ring-[3px] focus-visible:ring-ring/50 focus-visible:outline-none"
                onClick={() => onNavigate(crumb.path)}
                aria-label={crumb.path === "" ? "Home folder (~)" : `Folder ${crumb.label}`}
                data-testid="files-crumb"
              >
                {crumb.label}
              </button>
            )}
          </li>
        ))}
      </ol>
    </nav>
  );
}

interface DirectoryListingProps {
  boxId: string;
  dir: string;
  active: boolean;
  openPath: string | null;
  onNavigate: (dir: string) => void;
  onOpen: (path: string) => void;
}

function DirectoryListing({ boxId, dir, active, openPath, onNavigate, onOpen }: DirectoryListingProps) {
  const queryClient = useQueryClient();
  const listing = useQuery(orpc.files.list.queryOptions({ input: { boxId, path: dir }, enabled: active }));
  const [linkError, setLinkError] = useState<unknown>(null);
  const label = displayPath(dir);

  /** A link says nothing about its target: list it as a folder, and open it as a file when it is not one. */
  async function followLink(entry: FileEntry) {
    setLinkError(null);
    try {
      await queryClient.fetchQuery(orpc.files.list.queryOptions({ input: { boxId, path: entry.path } }));
      onNavigate(entry.path);
    } catch (error) {
      if (asApiError(error)?.status === 400) {
        onOpen(entry.path);
      } else {
        setLinkError(error);
      }
    }
  }

  function open(entry: FileEntry) {
    if (entry.type === "dir") {
      onNavigate(entry.path);
    } else if (entry.type === "symlink") {
      void followLink(entry);
    } else {
      onOpen(entry.path);
    }
  }

  if (listing.isPending) {
    return <LoadingState label={`Loading ${label}…`} testId="files-loading" />;
  }
  if (listing.isError) {
    return (
      <ErrorState
        title={`Could not list ${label}`}
        error={explainFilesError(listing.error)}
        onRetry={listing.refetch}
        testId="files-error"
      />
    );
  }
  const { entries } = listing.data;
  return (
    <div className="grid min-w-0 content-start gap-2">
      {linkError ? (
        <ErrorState
          title="Could not follow the link"
          error={explainFilesError(linkError)}
          testId="files-link-error"
        />
      ) : null}
      {entries.length === 0 ? (
        <EmptyState title={`${label} is empty`} testId="files-empty">
          Add a file with New file.
        </EmptyState>
      ) : (
        <ul className="grid gap-0.5" aria-label={`Contents of ${label}`} data-testid="files-list">
          {entries.map((entry) => {
            const Icon = ENTRY_ICON[entry.type];
            return (
              <li key={entry.path} data-testid="file-entry" data-name={entry.name} data-type={entry.type}>
                {entry.type === "other" ? (
                  <span
                    className="flex items-center gap-2 px-2 py-1.5 text-sm text-muted-foreground"
                    title="Not a file, folder or link"
                  >
                    <Icon className="size-4 shrink-0" aria-hidden />
                    <span className="truncate">{entry.name}</span>
                  </span>
                ) : (
                  <button
                    type="button"
                    className={cn(
                      "flex w-full min-w-0 items-center gap-2 rounded-md px-2 py-1.5 text-left text-sm hover:bg-accent focus-visible:ring-[3px] focus-visible:ring-ring/50 focus-visible:outline-none",
                      entry.path === openPath && "bg-accent font-medium",
                    )}
                    aria-label={`Open ${ENTRY_KIND[entry.type]} ${entry.name}`}
                    aria-current={entry.path === openPath || undefined}
                    onClick={() => open(entry)}
                  >
                    <Icon
                      className={cn("size-4 shrink-0", entry.type === "dir" && "text-primary")}
                      aria-hidden
                    />
                    <span className="truncate">{entry.name}</span>
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

/** The box's home directory: browse it, read files, edit text and add new files. */
export function FilesPanel({ box, active }: { box: Box; active: boolean }) {
  const queryClient = useQueryClient();
  /** What is listed; "" is the home, anything else an absolute path the API gave. */
  const [dir, setDir] = useState("");
  const [openPath, setOpenPath] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const formId = useId();

  if (box.status !== "running") {
    return (
      <Card role="region" aria-labelledby="files-title" data-testid="files-unavailable">
        <CardHeader>
          <CardTitle id="files-title">Files</CardTitle>
        </CardHeader>
        <CardContent>
          <EmptyState title="Files are available once the box is running.">
            {NOT_RUNNING[box.status]}
          </EmptyState>
        </CardContent>
      </Card>
    );
  }

  function navigate(next: string) {
    setDir(next);
    setNotice(null);
  }

  const refreshListings = () => queryClient.invalidateQueries({ queryKey: orpc.files.list.key() });

  return (
    <Card role="region" aria-labelledby="files-title" data-testid="files">
      <CardHeader>
        <CardTitle id="files-title">Files</CardTitle>
        <CardDescription>
          The box's home folder, ~ ({BOX_HOME}), where Claude works. Files up to 1 MiB open here.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        <div className="flex flex-wrap items-center justify-between gap-2">
          <PathBreadcrumb dir={dir} onNavigate={navigate} />
          <div className="flex gap-2">
            <Button
              variant="outline"
              size="sm"
              onClick={() => setCreating(!creating)}
              aria-expanded={creating}
              aria-controls={creating ? formId : undefined}
              data-testid="file-new"
            >
              <PlusIcon aria-hidden /> New file
            </Button>
            <Button
              variant="outline"
              size="sm"
              onClick={() => void refreshListings()}
              aria-label={`Refresh ${displayPath(dir)}`}
              data-testid="files-refresh"
            >
              <RefreshCwIcon aria-hidden /> Refresh
            </Button>
          </div>
        </div>
        <p className="text-sm text-muted-foreground empty:hidden" role="status" data-testid="files-notice">
          {notice}
        </p>
        {creating ? (
          <NewFileForm
            boxId={box.id}
            dir={dir}
            formId={formId}
            onCancel={() => setCreating(false)}
            onCreated={(path) => {
              setCreating(false);
              setNotice(`Created ${displayPath(path)}.`);
              void refreshListings();
              setOpenPath(path);
            }}
          />
        ) : null}
        <div className="grid gap-4 md:grid-cols-[minmax(12rem,18rem)_minmax(0,1fr)]">
          <DirectoryListing
            boxId={box.id}
            dir={dir}
            active={active}
            openPath={openPath}
            onNavigate={navigate}
            onOpen={setOpenPath}
          />
          {openPath ? (
            <FileViewer
              key={openPath}
              boxId={box.id}
              path={openPath}
              active={active}
              onClose={() => setOpenPath(null)}
            />
          ) : (
            <EmptyState title="No file open" testId="file-none">
              Pick a file in the list to read it here.
            </EmptyState>
          )}
        </div>
      </CardContent>
    </Card>
  );
}
