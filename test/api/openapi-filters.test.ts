/**
 * /openapi.json documents the filter language exactly as the parser takes it: every operator,
 * the nesting bound (SearchFilter0..5, each level referring to the one below), the list route's
 * `filter` parameter, and min_score with the answer's below_min_score.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../support/app";
import { MAX_FILTER_DEPTH } from "../../src/search/filters/schema";

let t: TestApp;
let doc: any;
beforeAll(async () => {
  t = await createTestApp();
  doc = (await t.call("GET", "/openapi.json")).body;
});
afterAll(() => t.close());

/** Every `$...` property name anywhere under `node`. */
function operatorsIn(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => operatorsIn(n, found));
  else if (node !== null && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "properties") Object.keys(value as object).filter((k) => k.startsWith("$")).forEach((k) => found.add(k));
      operatorsIn(value, found);
    }
  }
  return found;
}

describe("the filter language in /openapi.json", () => {
  test("a search's filters are SearchFilter<MAX_FILTER_DEPTH>, each level nesting the one below, SearchFilter0 none", () => {
    const body = doc.paths["/v1/search"].post.requestBody.content["application/json"].schema;
    expect(body.properties.filters).toEqual({ $ref: `#/components/schemas/SearchFilter${MAX_FILTER_DEPTH}` });
    for (let depth = 1; depth <= MAX_FILTER_DEPTH; depth++) {
      const schema = doc.components.schemas[`SearchFilter${depth}`];
      expect(schema.additionalProperties).toBe(false);
      expect(schema.properties.$not).toEqual({ $ref: `#/components/schemas/SearchFilter${depth - 1}` });
      expect(schema.properties.$and.items).toEqual({ $ref: `#/components/schemas/SearchFilter${depth - 1}` });
      expect(schema.properties.$or.items).toEqual({ $ref: `#/components/schemas/SearchFilter${depth - 1}` });
    }
    expect(Object.keys(doc.components.schemas.SearchFilter0.properties).sort()).toEqual(
      ["created_after", "created_at", "created_before", "metadata", "updated_at"],
    );
  });

  test("every operator is documented, and nothing else", () => {
    expect([...operatorsIn(doc.components.schemas.SearchFilter0)].sort()).toEqual(
      ["$contains", "$eq", "$exists", "$gt", "$gte", "$in", "$lt", "$lte", "$ne", "$nin"],
    );
    expect([...operatorsIn(doc.components.schemas.SearchFilter1)].sort()).toEqual(
      ["$and", "$contains", "$eq", "$exists", "$gt", "$gte", "$in", "$lt", "$lte", "$ne", "$nin", "$not", "$or"],
    );
  });

  test("strings in filters refuse U+0000, as every request string does", () => {
    const metadata = doc.components.schemas.SearchFilter0.properties.metadata;
    expect(metadata.propertyNames).toEqual({ not: { type: "string", pattern: "\\u0000" } });
  });

  test("list takes a filter; search takes min_score and says below_min_score", () => {
    const params = doc.paths["/v1/collections/{collection_id}/memories"].get.parameters;
    const filter = params.find((p: any) => p.name === "filter");
    expect(filter.in).toBe("query");
    expect(filter.content["application/json"].schema).toEqual({ $ref: `#/components/schemas/SearchFilter${MAX_FILTER_DEPTH}` });
    // a filter can make the URL too long for the server's headers: that 431 is documented
    expect(doc.paths["/v1/collections/{collection_id}/memories"].get.responses["431"].description).toContain("16 KiB");
    const body = doc.paths["/v1/search"].post.requestBody.content["application/json"].schema;
    expect(body.properties.min_score.type).toBe("number");
    expect(body.properties.min_score.description).toContain("cosine");
    const answer = doc.paths["/v1/search"].post.responses["200"].content["application/json"].schema;
    expect(answer.properties.below_min_score.type).toBe("integer");
  });
});
