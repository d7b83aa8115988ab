import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { DEFAULT_PAGE, pageOf } from "./pages/registry";
import { parseHash } from "./router";
import "./styles.css";

// The first page's chunk loads while the session is checked, not after.
void pageOf(parseHash(window.location.hash).page || DEFAULT_PAGE)
  ?.load()
  .catch(() => undefined); // a failure shows when the page is rendered

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
