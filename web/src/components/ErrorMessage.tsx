// An API error as a person reads it: what happened and how to fix it, never raw JSON.
import { ApiError } from "../api/problem";

export function ErrorMessage({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const text = error instanceof ApiError ? error.readable : error instanceof Error ? error.message : String(error);
  const title = error instanceof ApiError ? titleOf(error) : "Something went wrong";
  return (
    <div className="error" role="alert">
      <strong>{title}</strong>
      <p>{text}</p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

function titleOf(error: ApiError): string {
  if (error.status === 401) return "Sign-in refused";
  if (error.status === 403) return "Not allowed";
  if (error.kind === "network") return "Server unreachable";
  return "Something went wrong";
}
