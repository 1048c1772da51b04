"use client";

import Link from "next/link";
import { type FormEvent, useCallback, useId, useState } from "react";
import { ApiError, errorMessage, fieldIssue } from "@/lib/api-error";
import type { Box } from "@/lib/box";
import { budgetInputText, formatUsd, parseBudgetAmount } from "@/lib/usage";
import { announceBudgetChange, type BoxBudget, budgetApi, type UserBudget } from "@/lib/usage-api";
import { Field, FieldError } from "../field";
import { SubmitButton } from "../form-buttons";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { useAuthRedirect } from "../use-auth-redirect";
import { useResource } from "../use-resource";

/**
 * The form has one field, so a 400 is about the amount even when it is not a schema issue (the
 * server's "at most the platform's limit of $50.00" or "fractions of a cent").
 */
function amountRefusal(error: unknown): string | null {
  return error instanceof ApiError && error.status === 400 ? error.message : null;
}

interface CapSave {
  saving: boolean;
  /** The message for the field: the client's own check, or the server's words about `monthlyUsd`. */
  fieldError: string | null;
  /** Anything else that went wrong. */
  formError: string | null;
  saved: boolean;
  save: (event: FormEvent<HTMLFormElement>) => Promise<void>;
}

/** Parses the amount, sends it, and sorts what went wrong into the field's message or the form's. */
function useCapSave(text: string, send: (monthlyUsd: number | null) => Promise<void>): CapSave {
  const handleAuth = useAuthRedirect();
  const [saving, setSaving] = useState(false);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setFieldError(null);
    setFormError(null);
    setSaved(false);
    const amount = parseBudgetAmount(text);
    if (!amount.ok) {
      setFieldError(amount.message);
      return;
    }
    setSaving(true);
    try {
      await send(amount.value);
      setSaved(true);
      announceBudgetChange();
    } catch (caught) {
      if (handleAuth(caught)) {
        return;
      }
      const issue = fieldIssue(caught, "monthlyUsd") ?? amountRefusal(caught);
      if (issue) {
        setFieldError(issue);
      } else {
        setFormError(errorMessage(caught));
      }
    } finally {
      setSaving(false);
    }
  }

  return { saving, fieldError, formError, saved, save };
}

function UserCapForm({ budget, onSaved }: { budget: UserBudget; onSaved: (budget: UserBudget) => void }) {
  const [text, setText] = useState(() => budgetInputText(budget.monthlyUsd));
  const id = useId();
  const { saving, fieldError, formError, saved, save } = useCapSave(text, async (monthlyUsd) => {
    const updated = await budgetApi.set(monthlyUsd);
    onSaved(updated);
    setText(budgetInputText(updated.monthlyUsd));
  });
  const platformCap = budget.defaultMonthlyUsd;

  return (
    <form
      className="budget-form"
      onSubmit={save}
      noValidate
      aria-label="Your monthly cap"
      data-testid="budget-form"
    >
      <Field
        label="Your monthly cap (US dollars)"
        htmlFor={id}
        error={fieldError}
        errorId={`${id}-error`}
        errorTestId="budget-error"
      >
        <div className="inline-form">
          <input
            id={id}
            type="text"
            inputMode="decimal"
            autoComplete="off"
            value={text}
            onChange={(event) => setText(event.target.value)}
            placeholder={platformCap === null ? "No cap" : budgetInputText(platformCap)}
            aria-invalid={fieldError ? true : undefined}
            aria-describedby={`${id}-hint${fieldError ? ` ${id}-error` : ""}`}
            data-testid="budget-input"
          />
          <SubmitButton busy={saving} testId="budget-save">
            Save
          </SubmitButton>
        </div>
      </Field>
      <p id={`${id}-hint`} className="muted small budget-note">
        Leave it empty for no cap of your own
        {platformCap === null
          ? "."
          : `; the platform's cap of ${formatUsd(platformCap)} applies, and yours may only be lower.`}{" "}
        Every box's runs stop when the month's spend reaches it.
      </p>
      {formError ? (
        <p className="form-error" role="alert" data-testid="budget-form-error">
          {formError}
        </p>
      ) : null}
      {saved ? (
        <p className="muted small budget-note" role="status" data-testid="budget-saved">
          Saved.
        </p>
      ) : null}
    </form>
  );
}

function BoxCapRow({ box }: { box: Box }) {
  const load = useCallback(() => budgetApi.getBox(box.id), [box.id]);
  const budget = useResource(load);
  const { setData } = budget;

  return (
    <tr data-testid="box-budget-row" data-box-id={box.id} id={`box-budget-${box.id}`}>
      <th scope="row">
        <Link href={`/boxes/${encodeURIComponent(box.id)}`}>{box.name}</Link>
      </th>
      {budget.data ? (
        <>
          <td className="numeric" data-cell="spent" data-value={budget.data.spentUsd}>
            {formatUsd(budget.data.spentUsd)}
          </td>
          <td>
            <BoxCapForm box={box} budget={budget.data} onSaved={(updated) => setData(updated)} />
          </td>
        </>
      ) : (
        <td colSpan={2}>
          {budget.error ? (
            <span className="form-error">Could not load its budget: {errorMessage(budget.error)}</span>
          ) : (
            <span className="muted small">Loading…</span>
          )}
        </td>
      )}
    </tr>
  );
}

function BoxCapForm({
  box,
  budget,
  onSaved,
}: {
  box: Box;
  budget: BoxBudget;
  onSaved: (budget: BoxBudget) => void;
}) {
  const [text, setText] = useState(() => budgetInputText(budget.monthlyUsd));
  const id = useId();
  const { saving, fieldError, formError, saved, save } = useCapSave(text, async (monthlyUsd) => {
    const updated = await budgetApi.setBox(box.id, monthlyUsd);
    onSaved(updated);
    setText(budgetInputText(updated.monthlyUsd));
  });
  const error = fieldError ?? formError;

  return (
    <form className="box-budget-form" onSubmit={save} noValidate aria-label={`Monthly cap for ${box.name}`}>
      <div className="inline-form">
        <label htmlFor={id} className="visually-hidden">
          Monthly cap for {box.name} (US dollars)
        </label>
        <input
          id={id}
          type="text"
          inputMode="decimal"
          autoComplete="off"
          value={text}
          onChange={(event) => setText(event.target.value)}
          placeholder="No cap"
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : undefined}
          data-testid="box-budget-input"
        />
        <SubmitButton busy={saving} className="button button-small" testId="box-budget-save">
          <span aria-hidden="true">Save</span>
          <span className="visually-hidden">Save the cap for {box.name}</span>
        </SubmitButton>
        {saved ? (
          <span className="muted small" role="status">
            Saved.
          </span>
        ) : null}
      </div>
      <FieldError message={error} id={`${id}-error`} testId="box-budget-error" />
    </form>
  );
}

export function BudgetSettings({
  budget,
  onBudgetSaved,
  boxes,
}: {
  budget: UserBudget;
  onBudgetSaved: (budget: UserBudget) => void;
  boxes: { data: Box[] | undefined; error: unknown; loading: boolean; reload: () => Promise<void> };
}) {
  const list = boxes.data ?? [];
  return (
    <section className="card" id="budget" aria-labelledby="budget-title" data-testid="budget-settings">
      <h2 id="budget-title" className="card-title">
        Budgets
      </h2>
      <p className="muted small prose">
        Caps are checked before each model request and media call is forwarded; over a cap the request is
        refused and the run ends failed with the reason. You get an email at 80 % and at 100 % of each cap,
        once a month.
      </p>
      <UserCapForm budget={budget} onSaved={onBudgetSaved} />
      <h3 className="small-heading">Per box</h3>
      <p className="muted small">
        A box's own cap stops that box alone; empty means only your monthly cap applies.
      </p>
      {boxes.error ? (
        <ErrorState title="Could not load your boxes" error={boxes.error} onRetry={boxes.reload} />
      ) : null}
      {boxes.loading ? (
        <LoadingState label="Loading boxes…" />
      ) : list.length === 0 && !boxes.error ? (
        <EmptyState title="No boxes yet" />
      ) : (
        <div className="table-wrap">
          <table className="table usage-table" data-testid="box-budgets">
            <caption className="visually-hidden">Monthly caps per box</caption>
            <thead>
              <tr>
                <th scope="col">Box</th>
                <th scope="col" className="numeric">
                  Spent this month
                </th>
                <th scope="col">Monthly cap (USD)</th>
              </tr>
            </thead>
            <tbody>
              {list.map((box) => (
                <BoxCapRow key={box.id} box={box} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
