// Where the API token is kept: this tab's sessionStorage (gone when the tab closes), never a
// URL, a cookie or localStorage.
const KEY = "cfgctl.token";
const SHAPE = /^cfgctl_[A-Za-z0-9]+_[A-Za-z0-9_-]+$/;

export function loadToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null; // storage disabled: the token lives in memory only
  }
}

export function saveToken(token: string | null): void {
  try {
    if (token === null) sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, token);
  } catch {
    // storage disabled: nothing kept
  }
}

/** Why `text` cannot be an API token, or null when it has the shape of one. */
export function tokenProblem(text: string): string | null {
  const token = text.trim();
  if (!token) return "Paste the token that `cfgctl serve token create` printed.";
  if (!SHAPE.test(token)) return "This is not a cfgctl API token: it starts with cfgctl_ and has no spaces.";
  return null;
}
