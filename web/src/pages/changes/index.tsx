// The change requests: the list (/#/changes?state=open) and one (/#/change/ID).
import { ErrorMessage } from "../../components/ErrorMessage";
import type { PageProps } from "../registry";
import { ChangeList } from "./ChangeList";
import { ChangeView } from "./ChangeView";
import "./changes.css";

export default function ChangesPage({ route }: PageProps) {
  if (route.page === "change") {
    const id = Number(route.rest[0]);
    if (!Number.isInteger(id) || id < 1) {
      return (
        <main>
          <h1>Change request</h1>
          <ErrorMessage error={new Error(`"${route.rest[0] ?? ""}" is no change request number: open one from the list of change requests`)} />
        </main>
      );
    }
    return (
      <main>
        <ChangeView key={id} id={id} />
      </main>
    );
  }
  return <ChangeList state={route.query.get("state") ?? "open"} />;
}
