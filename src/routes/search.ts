import { Elysia } from "elysia";
import type { AuthPlugin } from "../auth/plugin";
import { renderAnswer, type SearchPipeline } from "../search/pipeline";
import { AUTHENTICATED, WITH_BODY, describeRoute, problems } from "../http/openapi";
import { SearchAnswerSchema, SearchBody, withSearchDefaults } from "../search/request";
import type { CostPolicy } from "../http/cost";

export interface SearchRoutesDeps {
  /** Resolves `principal` (401 otherwise) and spends the rate-limit budget. */
  auth: AuthPlugin;
  pipeline: SearchPipeline;
  /** Cost-weighted rate limits: a graph search costs more than one unit; default: one for all. */
  cost?: CostPolicy;
}

export function searchRoutes(deps: SearchRoutesDeps) {
  return new Elysia({ name: "search-routes", prefix: "/v1", normalize: false }).use(deps.auth).post(
    "/search",
    async ({ principal, body }) => {
      const started = performance.now();
      if (body.search_type === "graph" && deps.cost) await deps.cost.charge(principal, deps.cost.graphSearchUnits, "search_type");
      const outcome = await deps.pipeline.search(principal, withSearchDefaults(body));
      return new Response(renderAnswer(outcome, performance.now() - started), {
        headers: { "content-type": "application/json" },
      });
    },
    {
      body: SearchBody,
      // The answer is a pre-rendered Response, which Elysia never validates against this map:
      // it documents and types (Eden) the answer at no cost on the hot path.
      response: { 200: SearchAnswerSchema, ...problems(...AUTHENTICATED, ...WITH_BODY, 403, 404, 409) },
      detail: describeRoute(
        "search",
        "Search a collection by meaning, by keyword or both",
        "Answers are cached per collection generation: a write is visible to the next search.",
      ),
    },
  );
}
