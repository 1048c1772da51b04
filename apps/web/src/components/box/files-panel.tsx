"use client";

import { useCallback, useId, useState } from "react";
import { ApiError } from "@/lib/api-error";
import type { Box, BoxStatus } from "@/lib/box";
import { type FileEntry, filesApi } from "@/lib/box-api";
import { BOX_HOME, displayPath, explainFilesError, pathCrumbs } from "@/lib/box-files";
import { FileIcon, FolderIcon, LinkIcon } from "../icons";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { useAuthRedirect } from "../use-auth-redirect";
import { useResource } from "../use-resource";
import { FileViewer } from "./file-viewer";
import { NewFileForm } from "./new-file-form";

const NOT_RUNNING: Record<Exclude<BoxStatus, "running">, string> = {
  pending: "It is waiting for its deploy to start; follow it on the Overview tab.",
  deploying: "It is still deploying; follow it on the Overview tab.",
  error: "Its last deploy failed: redeploy it with the button above, then come back.",
  deleting: "It is being deleted, files and all.",
};

const ENTRY_KIND: Record<Exclude<FileEntry["type"], "other">, string> = {
  dir: "folder",
  file: "file",
  symlink: "link",
};

function PathBreadcrumb({ dir, onNavigate }: { dir: string; onNavigate: (dir: string) => void }) {
  const crumbs = pathCrumbs(dir);
  return (
    <nav aria-label="Current folder" className="path-crumbs" data-testid="files-breadcrumb">
      <ol>
        {crumbs.map((crumb, index) => (
          <li key={crumb.path}>
            {index === crumbs.length - 1 ? (
              <span aria-current="location" className="path-crumb-current" data-testid="files-crumb">
                {crumb.label}
              </span>
            ) : (
              <button
                type="button"
                className="path-crumb"
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
  const handleAuth = useAuthRedirect();
  const load = useCallback(() => filesApi.list(boxId, dir), [boxId, dir]);
  const listing = useResource(load, active);
  const [linkError, setLinkError] = useState<unknown>(null);
  const label = displayPath(dir);

  /** A link says nothing about its target: list it as a folder, and open it as a file when it is not one. */
  async function followLink(entry: FileEntry) {
    setLinkError(null);
    try {
      await filesApi.list(boxId, entry.path);
      onNavigate(entry.path);
    } catch (caught) {
      if (handleAuth(caught)) {
        return;
      }
      if (caught instanceof ApiError && caught.status === 400) {
        onOpen(entry.path);
        return;
      }
      setLinkError(caught);
    }
  }

  if (listing.loading) {
    return <LoadingState label={`Loading ${label}…`} testId="files-loading" />;
  }
  const entries = listing.data?.entries ?? [];
  return (
    <div className="files-listing">
      {listing.error ? (
        <ErrorState
          title={`Could not list ${label}`}
          error={explainFilesError(listing.error)}
          onRetry={listing.reload}
          testId="files-error"
        />
      ) : null}
      {linkError ? (
        <ErrorState
          title="Could not follow the link"
          error={explainFilesError(linkError)}
          testId="files-link-error"
        />
      ) : null}
      {!listing.data ? null : entries.length === 0 ? (
        <EmptyState title={`${label} is empty`} testId="files-empty">
          Add a file with New file.
        </EmptyState>
      ) : (
        <ul className="file-list" aria-label={`Contents of ${label}`} data-testid="files-list">
          {entries.map((entry) => (
            <li key={entry.path} data-testid="file-entry" data-name={entry.name} data-type={entry.type}>
              {entry.type === "other" ? (
                <span className="file-entry file-entry-other" title="Not a file, folder or link">
                  <FileIcon />
                  <span className="file-name">{entry.name}</span>
                </span>
              ) : (
                <button
                  type="button"
                  className={`file-entry file-entry-${entry.type}`}
                  aria-label={`Open ${ENTRY_KIND[entry.type]} ${entry.name}`}
                  aria-current={entry.path === openPath || undefined}
                  onClick={() => {
                    if (entry.type === "dir") {
                      onNavigate(entry.path);
                    } else if (entry.type === "symlink") {
                      void followLink(entry);
                    } else {
                      onOpen(entry.path);
                    }
                  }}
                >
                  {entry.type === "dir" ? (
                    <FolderIcon />
                  ) : entry.type === "symlink" ? (
                    <LinkIcon />
                  ) : (
                    <FileIcon />
                  )}
                  <span className="file-name">{entry.name}</span>
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The box's home directory: browse it, read files, edit text and add new files. */
export function FilesPanel({ box, active }: { box: Box; active: boolean }) {
  /** What is listed; "" is the home, anything else an absolute path the API gave. */
  const [dir, setDir] = useState("");
  const [openPath, setOpenPath] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  // Part of the listing's key: bumping it loads the folder afresh.
  const [listingVersion, setListingVersion] = useState(0);
  const formId = useId();

  if (box.status !== "running") {
    return (
      <section className="card" aria-labelledby="files-title" data-testid="files-unavailable">
        <h2 id="files-title" className="card-title">
          Files
        </h2>
        <EmptyState title="Files are available once the box is running.">
          {NOT_RUNNING[box.status]}
        </EmptyState>
      </section>
    );
  }

  function navigate(next: string) {
    setDir(next);
    setNotice(null);
  }

  return (
    <section className="card" aria-labelledby="files-title" data-testid="files">
      <h2 id="files-title" className="card-title">
        Files
      </h2>
      <p className="muted small">
        The box's home folder, ~ ({BOX_HOME}), where Claude works. Files up to 1 MiB open here.
      </p>
      <div className="files-toolbar">
        <PathBreadcrumb dir={dir} onNavigate={navigate} />
        <div className="button-row">
          <button
            type="button"
            className="button button-small"
            onClick={() => setCreating(!creating)}
            aria-expanded={creating}
            aria-controls={creating ? formId : undefined}
            data-testid="file-new"
          >
            New file
          </button>
          <button
            type="button"
            className="button button-small"
            onClick={() => setListingVersion((version) => version + 1)}
            aria-label={`Refresh ${displayPath(dir)}`}
            data-testid="files-refresh"
          >
            Refresh
          </button>
        </div>
      </div>
      {notice ? (
        <p className="muted small files-notice" role="status" data-testid="files-notice">
          {notice}
        </p>
      ) : null}
      {creating ? (
        <NewFileForm
          boxId={box.id}
          dir={dir}
          formId={formId}
          onCancel={() => setCreating(false)}
          onCreated={(path) => {
            setCreating(false);
            setNotice(`Created ${displayPath(path)}.`);
            setListingVersion((version) => version + 1);
            setOpenPath(path);
          }}
        />
      ) : null}
      <div className="files-layout">
        <DirectoryListing
          key={`${dir}\n${listingVersion}`}
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
    </section>
  );
}
