import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

afterEach(() => {
  cleanup();
  sessionStorage.clear();
});

// jsdom lays nothing out: give the overview's scroll container the size a browser would, so
// the virtualiser renders the rows in view (tests/e2e/ checks the real layout in Chromium).
for (const [name, size] of [["clientHeight", 640], ["clientWidth", 1024]] as const) {
  Object.defineProperty(HTMLElement.prototype, name, {
    configurable: true,
    get(this: HTMLElement) {
      return this.classList.contains("grid-scroll") ? size : 0;
    },
  });
}
// ...and its rows the height they have at 1280 px (the virtualiser measures each one).
Object.defineProperty(HTMLTableRowElement.prototype, "offsetHeight", { configurable: true, get: () => 48 });
