"use client";

import { useCallback, useState } from "react";
import { errorMessage } from "@/lib/api-error";
import { type Cronjob, type CronjobExecution, type CronjobInput, cronjobsApi } from "@/lib/box-api";
import { formatCost, formatDateTime, formatDuration } from "@/lib/format";
import { ConfirmDialog } from "../confirm-dialog";
import { DeleteButton } from "../delete-button";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { RelativeTime } from "../relative-time";
import { useAuthRedirect } from "../use-auth-redirect";
import { useConfirmedDelete } from "../use-confirmed-delete";
import { useResource } from "../use-resource";
import { CronjobForm } from "./cronjob-form";

const EXECUTION_LABELS: Record<CronjobExecution["status"], string> = {
  pending: "pending",
  waking_box: "waking the box",
  running: "running",
  completed: "completed",
  failed: "failed",
  skipped: "skipped",
};

function Executions({ boxId, cronjobId }: { boxId: string; cronjobId: string }) {
  const load = useCallback(() => cronjobsApi.executions(boxId, cronjobId), [boxId, cronjobId]);
  const executions = useResource(load);

  if (executions.loading) {
    return <LoadingState label="Loading runs…" testId="cronjob-executions-loading" />;
  }
  if (executions.error) {
    return (
      <ErrorState title="Could not load the runs" error={executions.error} onRetry={executions.reload} />
    );
  }
  const rows = executions.data ?? [];
  if (rows.length === 0) {
    return (
      <p className="muted small" data-testid="cronjob-executions-empty">
        No runs yet. The first one happens at the next time the schedule matches.
      </p>
    );
  }
  return (
    <div className="table-wrap">
      <table className="table" data-testid="cronjob-executions">
        <caption className="visually-hidden">Latest runs</caption>
        <thead>
          <tr>
            <th scope="col">Scheduled for</th>
            <th scope="col">Status</th>
            <th scope="col">Duration</th>
            <th scope="col">Cost</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((execution) => (
            <tr key={execution.id} data-testid="cronjob-execution" data-status={execution.status}>
              <td>{formatDateTime(execution.scheduledFor)}</td>
              <td>
                <span className={`badge badge-run-${execution.status}`}>
                  {EXECUTION_LABELS[execution.status]}
                </span>
              </td>
              <td>{formatDuration(execution.durationMs)}</td>
              <td>{formatCost(execution.costUsd)}</td>
              <td className="cell-wrap" data-run-id={execution.runId ?? undefined}>
                {execution.errorMessage ? <span className="box-error">{execution.errorMessage}</span> : null}
                {execution.resultExcerpt ? <span>{execution.resultExcerpt}</span> : null}
                {!execution.errorMessage && !execution.resultExcerpt ? (
                  <span className="muted">—</span>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** "fresh conversation · skips a tick while one runs · model x · stops after 90 min". */
function describeSettings(cronjob: Cronjob): string {
  return [
    cronjob.session === "fresh" ? "fresh conversation each run" : "continues one conversation",
    cronjob.overlap === "skip"
      ? "skips a tick while a run still works"
      : "queues a tick while a run still works",
    cronjob.model ? `model ${cronjob.model}` : null,
    cronjob.maxDurationMinutes ? `stops a run after ${cronjob.maxDurationMinutes} min` : null,
  ]
    .filter(Boolean)
    .join(" · ");
}

interface CronjobItemProps {
  boxId: string;
  cronjob: Cronjob;
  onChanged: (cronjob: Cronjob) => void;
  onDeleted: (id: string) => void;
}

function CronjobItem({ boxId, cronjob, onChanged, onDeleted }: CronjobItemProps) {
  const handleAuth = useAuthRedirect();
  const [editing, setEditing] = useState(false);
  const [toggling, setToggling] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const deletion = useConfirmedDelete(
    () => cronjobsApi.remove(boxId, cronjob.id),
    () => onDeleted(cronjob.id),
  );
  const [showRuns, setShowRuns] = useState(false);
  const [nextRun, ...laterRuns] = cronjob.nextRuns;

  async function toggle() {
    setToggling(true);
    setActionError(null);
    try {
      onChanged(await cronjobsApi.toggle(boxId, cronjob.id, !cronjob.enabled));
    } catch (caught) {
      if (!handleAuth(caught)) {
        setActionError(`Could not ${cronjob.enabled ? "pause" : "enable"} it: ${errorMessage(caught)}`);
      }
    } finally {
      setToggling(false);
    }
  }

  async function update(input: CronjobInput) {
    try {
      onChanged(await cronjobsApi.update(boxId, cronjob.id, input));
      setEditing(false);
    } catch (caught) {
      if (!handleAuth(caught)) {
        throw caught;
      }
    }
  }

  return (
    <li
      className="card list-card"
      data-testid="cronjob-item"
      data-cronjob-id={cronjob.id}
      data-enabled={cronjob.enabled}
    >
      {editing ? (
        <>
          <h3 className="card-subtitle">Edit “{cronjob.name}”</h3>
          <CronjobForm
            initial={cronjob}
            submitLabel="Save changes"
            busyLabel="Saving…"
            onSubmit={update}
            onCancel={() => setEditing(false)}
            testId="cronjob-edit-form"
          />
        </>
      ) : (
        <>
          <div className="list-card-head">
            <div className="list-card-main">
              <h3 className="card-subtitle" data-testid="cronjob-name-text">
                {cronjob.name}
              </h3>
              <p className="small list-card-meta">
                <code data-testid="cronjob-schedule-text">{cronjob.schedule}</code>{" "}
                <span className="muted">in {cronjob.timezone}</span>
                {" · "}
                <span className="muted">
                  {cronjob.lastRunAt ? (
                    <>
                      last run <RelativeTime iso={cronjob.lastRunAt} />
                    </>
                  ) : (
                    "never run"
                  )}
                </span>
              </p>
              <p className="small muted" data-testid="cronjob-settings-text">
                {describeSettings(cronjob)}
              </p>
              <p className="small muted" data-testid="cronjob-next-runs">
                {nextRun ? (
                  <>
                    next run <RelativeTime iso={nextRun} />
                    {laterRuns.length > 0
                      ? `, then ${laterRuns.slice(0, 2).map(formatDateTime).join(", ")}`
                      : null}
                  </>
                ) : (
                  "no upcoming runs while paused"
                )}
              </p>
            </div>
            <div className="button-row">
              <button
                type="button"
                role="switch"
                aria-checked={cronjob.enabled}
                aria-label={`Enabled: ${cronjob.name}`}
                className={`switch${cronjob.enabled ? " switch-on" : ""}`}
                onClick={toggle}
                disabled={toggling}
                data-testid="cronjob-toggle"
              >
                <span className="switch-track" aria-hidden="true">
                  <span className="switch-thumb" />
                </span>
                <span>{cronjob.enabled ? "Enabled" : "Paused"}</span>
              </button>
              <button
                type="button"
                className="button button-small"
                onClick={() => setEditing(true)}
                aria-label={`Edit ${cronjob.name}`}
                data-testid="cronjob-edit"
              >
                Edit
              </button>
              <DeleteButton label={`Delete ${cronjob.name}`} testId="cronjob-delete" onClick={deletion.ask} />
            </div>
          </div>
          <p className="prompt-preview">{cronjob.prompt}</p>
          {actionError ? (
            <p className="form-error" role="alert">
              {actionError}
            </p>
          ) : null}
          <button
            type="button"
            className="link-button"
            aria-expanded={showRuns}
            onClick={() => setShowRuns((open) => !open)}
            data-testid="cronjob-runs-toggle"
          >
            {showRuns ? "▾ Hide runs" : "▸ Show runs"}
          </button>
          {showRuns ? <Executions boxId={boxId} cronjobId={cronjob.id} /> : null}
        </>
      )}
      <ConfirmDialog {...deletion.dialog} title={`Delete “${cronjob.name}”?`} confirmLabel="Delete cronjob">
        <p>It stops running, and its run history is removed with it.</p>
      </ConfirmDialog>
    </li>
  );
}

export function CronjobsPanel({ boxId }: { boxId: string }) {
  const handleAuth = useAuthRedirect();
  const load = useCallback(() => cronjobsApi.list(boxId), [boxId]);
  const cronjobs = useResource(load);
  const { setData } = cronjobs;

  const upsert = useCallback(
    (cronjob: Cronjob) =>
      setData((current) => {
        const list = current ?? [];
        return list.some((known) => known.id === cronjob.id)
          ? list.map((known) => (known.id === cronjob.id ? cronjob : known))
          : [...list, cronjob];
      }),
    [setData],
  );

  async function create(input: CronjobInput) {
    try {
      upsert(await cronjobsApi.create(boxId, input));
    } catch (caught) {
      if (!handleAuth(caught)) {
        throw caught;
      }
    }
  }

  const list = cronjobs.data ?? [];

  return (
    <div className="stack" data-testid="cronjobs">
      <section className="card" aria-labelledby="cronjob-create-title">
        <h2 id="cronjob-create-title" className="card-title">
          New cronjob
        </h2>
        <p className="muted small">Wakes the box on a schedule and gives Claude the prompt.</p>
        <CronjobForm
          submitLabel="Add cronjob"
          busyLabel="Adding…"
          onSubmit={create}
          testId="cronjob-create-form"
        />
      </section>

      <section aria-labelledby="cronjob-list-title">
        <h2 id="cronjob-list-title" className="section-title">
          Cronjobs
        </h2>
        {cronjobs.error ? (
          <ErrorState
            title="Could not load cronjobs"
            error={cronjobs.error}
            onRetry={cronjobs.reload}
            testId="cronjobs-error"
          />
        ) : null}
        {cronjobs.loading ? (
          <LoadingState label="Loading cronjobs…" testId="cronjobs-loading" />
        ) : list.length === 0 && !cronjobs.error ? (
          <div className="card">
            <EmptyState title="No cronjobs yet" testId="cronjobs-empty">
              Add one above, for example a daily summary at <code>0 8 * * *</code>.
            </EmptyState>
          </div>
        ) : (
          <ul className="card-list" data-testid="cronjob-list">
            {list.map((cronjob) => (
              <CronjobItem
                key={cronjob.id}
                boxId={boxId}
                cronjob={cronjob}
                onChanged={upsert}
                onDeleted={(id) => setData((current) => (current ?? []).filter((known) => known.id !== id))}
              />
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
