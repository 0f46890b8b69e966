import { Elysia } from "elysia";
import type { TokenService } from "../auth/tokens";
import { authPlugin, type RateLimitPolicy } from "../auth/plugin";
import { renderAnswer, type SearchPipeline } from "../search/pipeline";
import { SearchBody } from "./schemas";

export interface SearchRoutesDeps {
  tokens: TokenService;
  rateLimit?: RateLimitPolicy;
  pipeline: SearchPipeline;
}

export function searchRoutes(deps: SearchRoutesDeps) {
  return new Elysia({ prefix: "/v1", normalize: false }).use(authPlugin(deps.tokens, deps.rateLimit)).post(
    "/search",
    async ({ principal, body }) => {
      const started = performance.now();
      const outcome = await deps.pipeline.search(principal, {
        query: body.query,
        collection_id: body.collection_id,
        top_k: body.top_k ?? 10,
        search_type: body.search_type ?? "semantic",
        filters: body.filters,
        rerank: body.rerank ?? false,
      });
      return new Response(renderAnswer(outcome, performance.now() - started), {
        headers: { "content-type": "application/json" },
      });
    },
    { body: SearchBody },
  );
}
