import { Elysia } from "elysia";
import { ProblemError } from "../http/problem";
import type { TokenService } from "./tokens";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

function unauthorized(detail: string): ProblemError {
  return new ProblemError(401, "unauthorized", detail, {
    headers: { "www-authenticate": 'Bearer realm="memory-api"' },
  });
}

/** Why an unverifiable token failed, from its (untrusted) payload: only to word the 401. */
function describeRejection(token: string): string {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
    if (typeof payload?.exp === "number" && payload.exp * 1000 < Date.now()) return "token has expired";
    if (payload?.type !== undefined && payload.type !== "access") return "token is not an access token";
  } catch {
    // not a JWT at all
  }
  return "token is invalid";
}

/** Resolves `principal` for every route of the plugin that uses it; 401 problem+json otherwise. */
export function authPlugin(tokens: TokenService) {
  return new Elysia({ name: "auth", seed: tokens }).resolve({ as: "scoped" }, async ({ request }) => {
    const header = request.headers.get("authorization");
    if (!header) throw unauthorized("missing Authorization: Bearer <token> header");
    const match = BEARER.exec(header);
    if (!match) throw unauthorized("Authorization header must be 'Bearer <token>'");
    const token = match[1]!;
    const principal = await tokens.verify(token);
    if (!principal) throw unauthorized(describeRejection(token));
    return { principal };
  });
}
