import { Alert } from "@mantine/core";
import { describeError } from "../api/error-messages.js";

/** An error shown where it happened, in words (role="alert", so it is announced). */
export function ProblemAlert({
  error,
  message,
  title,
}: {
  error?: unknown;
  message?: string | null;
  title?: string;
}) {
  const text = message ?? (error ? describeError(error) : null);
  if (!text) return null;
  return (
    <Alert color="red" variant="light" title={title} role="alert">
      {text}
    </Alert>
  );
}
