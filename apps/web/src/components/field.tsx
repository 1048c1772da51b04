import type { ReactNode } from "react";

interface FieldErrorProps {
  /** The message about this field, usually the server's; nothing renders without one. */
  message: string | null | undefined;
  /** The id the input names in its `aria-describedby`. */
  id?: string;
  testId?: string;
}

export function FieldError({ message, id, testId }: FieldErrorProps) {
  return message ? (
    <p id={id} className="field-error" data-testid={testId}>
      {message}
    </p>
  ) : null;
}

interface FieldProps {
  label: ReactNode;
  /** The id of the input that `children` renders. */
  htmlFor: string;
  /** The input, with any hint or datalist that goes under it. */
  children: ReactNode;
  error?: string | null;
  errorId?: string;
  errorTestId?: string;
}

/** A labelled input with its error underneath; the input itself sets `aria-invalid` and `aria-describedby`. */
export function Field({ label, htmlFor, children, error, errorId, errorTestId }: FieldProps) {
  return (
    <div className="field">
      <label htmlFor={htmlFor}>{label}</label>
      {children}
      <FieldError message={error} id={errorId} testId={errorTestId} />
    </div>
  );
}
