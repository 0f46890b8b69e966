/**
 * What a failed Milvus call becomes: connection-level failures (Milvus stopped, restarting,
 * overloaded) are DependencyUnavailableError, which the API answers with 503 + Retry-After;
 * anything else stays an error of its own (a 500 names a bug). The fault drill
 * (test/faults/drill.test.ts) stops the real Milvus under load; these are the shapes it met.
 */
import { describe, expect, test } from "bun:test";
import { DependencyUnavailableError } from "../../src/domain/errors.ts";
import { translateError } from "../../src/stores/milvus/errors.ts";

const withCode = (message: string, code: number) => Object.assign(new Error(message), { code });

describe("milvus translateError", () => {
  test.each([
    ["a gRPC error with its code", withCode("1 CANCELLED: Call cancelled", 1)],
    ["the message alone", new Error("1 CANCELLED: Call cancelled")],
    // the SDK's search wraps the gRPC error in an Error whose message is the first one's String()
    ["the message wrapped by the SDK's search", new Error("Error: 1 CANCELLED: Call cancelled")],
    ["14 UNAVAILABLE wrapped", new Error("Error: 14 UNAVAILABLE: No connection established")],
    ["a deadline", withCode("4 DEADLINE_EXCEEDED: Deadline exceeded", 4)],
    ["a refused connection", new Error("connect ECONNREFUSED 127.0.0.1:19530")],
  ])("%s is the dependency being unavailable", (_, error) => {
    const translated = translateError(error, "search");
    expect(translated).toBeInstanceOf(DependencyUnavailableError);
    expect((translated as DependencyUnavailableError).retryAfterSeconds).toBeGreaterThan(0);
  });

  test.each([
    ["an invalid expression", new Error("milvus search: cannot parse expression: x == (code 1100)")],
    ["a word that only looks like a code", new Error("field 11 CANCELLED_AT not found")],
    ["a programming error", new TypeError("Cannot read properties of undefined (reading 'data')")],
  ])("%s stays an error of its own", (_, error) => {
    expect(translateError(error, "search")).not.toBeInstanceOf(DependencyUnavailableError);
  });
});
