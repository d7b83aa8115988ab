// Routing by the URL's fragment (/#/overview?env=prod): the server serves / only, and a page's
// state can live in the fragment's query. Never put a token here.
import { useEffect, useState } from "react";

export interface Route {
  page: string; // the first segment: "overview"
  rest: string[]; // the segments after it: ["payments", "prod"]
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, "");
  const [path = "", search = ""] = text.split("?", 2);
  const segments = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { page: segments[0] ?? "", rest: segments.slice(1), query: new URLSearchParams(search) };
}

export function hrefOf(page: string, rest: string[] = [], query?: Record<string, string>): string {
  const path = [page, ...rest].map(encodeURIComponent).join("/");
  const search = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== "")).toString() : "";
  return `#/${path}${search ? `?${search}` : ""}`;
}

export function useRoute(): Route {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const onChange = () => setHash(window.location.hash);
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return parseHash(hash);
}
