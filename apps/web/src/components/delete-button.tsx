/** The small outlined "Delete" button of a list row; its accessible name says what it deletes. */
export function DeleteButton({
  label,
  testId,
  onClick,
}: {
  label: string;
  testId: string;
  onClick: () => void;
}) {
  return (
    <button
      type="button"
      className="button button-small button-danger-outline"
      onClick={onClick}
      aria-label={label}
      data-testid={testId}
    >
      Delete
    </button>
  );
}
