// Every page of the dashboard: its route (/#/NAME), its title in the navigation, and its module,
// loaded only when the page is opened (React.lazy: the first page's JavaScript stays small).
// To add a page: a folder src/pages/NAME/ whose index.tsx default-exports the page component,
// and one entry here. See docs/dashboard.md.
import { lazy, type ComponentType, type LazyExoticComponent } from "react";
import type { Route } from "../router";

export interface PageProps {
  route: Route;
}

export interface PageEntry {
  name: string; // the route: /#/NAME
  title: string; // in the navigation and the document title
  component: LazyExoticComponent<ComponentType<PageProps>>;
}

export const PAGES: PageEntry[] = [
  { name: "overview", title: "Overview", component: lazy(() => import("./overview")) },
];

export const DEFAULT_PAGE = "overview";

export function pageOf(name: string): PageEntry | undefined {
  return PAGES.find((page) => page.name === name);
}
