// What the signed-in subject may do, from /api/v1/whoami: a page asks `can` before it shows an
// action, and disables it with the reason when the answer is no.
import type { Action, Whoami } from "../api/types";

export interface Verdict {
  allowed: boolean;
  reason: string;
}

/** Whether `who` may do `action` on `object` (SERVICE@ENV, default *@*), by the permissions
 * the server answered; an object the server was not asked about is "unknown": not allowed. */
export function can(who: Whoami, action: Action, object = "*@*"): Verdict {
  const found = who.permissions.find((p) => p.action === action && p.object === object);
  if (!found) return { allowed: false, reason: `not known whether ${who.subject} may ${action} ${object}` };
  if (found.allowed) return { allowed: true, reason: found.reason ?? "allowed" };
  return { allowed: false, reason: found.reason ?? `${who.subject} may not ${action} ${object}` };
}

/** A short description of the subject for the header. */
export function describe(who: Whoami): string {
  if (who.insecure_local) return "local (no sign-in)";
  return who.role ? `${who.subject} (${who.role})` : who.subject;
}
