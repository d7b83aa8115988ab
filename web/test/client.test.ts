import { describe, expect, it } from "vitest";
import { ApiClient, encodeQuery } from "../src/api/client";
import { ApiError } from "../src/api/problem";
import { fakeFetch, json, problem, whoamiDoc } from "./fixtures";

describe("ApiClient", () => {
  it("sends the token in the Authorization header only", async () => {
    const { fetcher, calls } = fakeFetch({ "/whoami": () => json(whoamiDoc()) });
    const who = await new ApiClient("cfgctl_abc_secret", { fetcher }).whoami(["payments@prod"]);
    expect(who.subject).toBe("alice");
    expect(calls[0]?.url).toBe("/api/v1/whoami?object=payments%40prod");
    expect(calls[0]?.url).not.toContain("secret");
    expect((calls[0]?.init?.headers as Record<string, string>).Authorization).toBe("Bearer cfgctl_abc_secret");
  });

  it("turns a problem document into a readable ApiError", async () => {
    const { fetcher } = fakeFetch({
      "/overview": () => problem(403, "forbidden", "'alice' may not read config:*@*", "ask an administrator for a role that allows it"),
    });
    const error = await new ApiClient(null, { fetcher }).overview().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    const api = error as ApiError;
    expect(api.status).toBe(403);
    expect(api.kind).toBe("forbidden");
    expect(api.readable).toBe("'alice' may not read config:*@*. Ask an administrator for a role that allows it.");
    expect(api.readable).not.toContain("{");
  });

  it("says when the server cannot be reached or answers something else", async () => {
    const down = (async () => {
      throw new TypeError("Failed to fetch");
    }) as typeof fetch;
    const error = (await new ApiClient(null, { fetcher: down }).status().catch((e: unknown) => e)) as ApiError;
    expect(error.kind).toBe("network");
    expect(error.readable).toContain("cannot be reached");
    const html = (async () => new Response("<html>", { status: 502, statusText: "Bad Gateway" })) as typeof fetch;
    const other = (await new ApiClient(null, { fetcher: html }).status().catch((e: unknown) => e)) as ApiError;
    expect(other.message).toBe("The server answered 502 Bad Gateway");
  });

  it("encodes repeated query parameters and skips undefined ones", () => {
    expect(encodeQuery({ object: ["a@b", "c@d"], skip: undefined })).toBe("?object=a%40b&object=c%40d");
    expect(encodeQuery({})).toBe("");
  });
});
