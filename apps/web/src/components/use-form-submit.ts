"use client";

import { type FormEvent, useState } from "react";

export interface FormSubmit {
  submitting: boolean;
  /** What the last submit threw, kept for the form to show until the next submit. */
  error: unknown;
  submit: (event: FormEvent<HTMLFormElement>) => Promise<void>;
}

/** Runs `action` as a form's submit handler, tracking whether it runs and what it threw. */
export function useFormSubmit(action: () => Promise<void>): FormSubmit {
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSubmitting(true);
    setError(null);
    try {
      await action();
    } catch (caught) {
      setError(caught);
    } finally {
      setSubmitting(false);
    }
  }

  return { submitting, error, submit };
}
