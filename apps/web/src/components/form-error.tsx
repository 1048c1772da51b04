import { errorMessage, issuesAllShown } from "@/lib/api-error";

interface FormErrorProps {
  error: unknown;
  /** The fields that show their own issues beside them. */
  fields: readonly string[];
  testId: string;
}

/**
 * A form's error message. When every issue already shows beside its field it is still announced, but
 * only to screen readers, so sighted users do not read it twice.
 */
export function FormError({ error, fields, testId }: FormErrorProps) {
  if (!error) {
    return null;
  }
  return issuesAllShown(error, fields) ? (
    <p className="visually-hidden" role="alert">
      {errorMessage(error)}
    </p>
  ) : (
    <p className="form-error" role="alert" data-testid={testId}>
      {errorMessage(error)}
    </p>
  );
}
