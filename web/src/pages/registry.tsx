// Every page of the dashboard: its route (/#/NAME), its title in the navigation, and its module,
// loaded only when the page is opened (a chunk of its own: the first page's JavaScript stays
// small). To add a page: a folder src/pages/NAME/ whose index.tsx default-exports the page
// component, and one `page(...)` line below. See docs/dashboard.md.
import { use, type ComponentType } from "react";
import type { Route } from "../router";

export interface PageProps {
  route: Route;
}

type PageModule = Promise<{ default: ComponentType<PageProps> }>;

export interface PageEntry {
  name: string; // the route: /#/NAME
  title: string; // in the navigation and the document title
  load: () => PageModule; // starts loading its chunk (once); main.tsx preloads the first page's
  component: ComponentType<PageProps>; // suspends (<Suspense>) until the chunk is there
  nav: boolean; // listed in the navigation (false: reached by links only, e.g. /#/change/ID)
  section: string; // the navigation's entry it belongs to (its own name, or e.g. "changes")
}

/** A page whose module is loaded on first use. Unlike React.lazy, a module loaded ahead
 * (main.tsx) renders at once: no fallback, and none of React's 300 ms Suspense reveal delay. */
function page(name: string, title: string, importer: () => PageModule, section = name): PageEntry {
  let pending: PageModule | null = null;
  let loaded: ComponentType<PageProps> | null = null;
  const load = () =>
    (pending ??= importer().then((module) => {
      loaded = module.default;
      return module;
    }));
  function Page(props: PageProps) {
    const Component = loaded ?? use(load()).default;
    return <Component {...props} />;
  }
  Page.displayName = `Page(${name})`;
  return { name, title, load, component: Page, nav: section === name, section };
}

export const PAGES: PageEntry[] = [
  page("overview", "Overview", () => import("./overview")),
  page("changes", "Change requests", () => import("./changes")),
  page("change", "Change request", () => import("./changes"), "changes"), // in the navigation's "changes"
  page("history", "History", () => import("./history")),
  page("service", "Service", () => import("./service")),
  page("compare", "Compare", () => import("./compare")),
  page("templates", "Templates", () => import("./templates")),
  page("analytics", "Analytics", () => import("./analytics")),
];

export const DEFAULT_PAGE = "overview";

export function pageOf(name: string): PageEntry | undefined {
  return PAGES.find((entry) => entry.name === name);
}
