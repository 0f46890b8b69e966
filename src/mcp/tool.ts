/**
 * One MCP tool: a typed input schema, the API request it makes, and how its answer reads. The
 * arguments are checked against the schema first (a model that sends a wrong shape learns which
 * field, as a tool error it can act on); the API then validates as it does for any client.
 */
import type { Static, TObject } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import type { CallToolResult, Tool, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import { fieldPath } from "../http/errors";
import { numbersAsNumbers } from "../http/openapi";
import type { ApiCaller, ApiProblem, ApiRequest } from "./api-caller";

export interface ToolSpec<I extends TObject, O extends TObject> {
  name: string;
  title: string;
  /** What a model reads to choose the tool and fill its arguments. */
  description: string;
  input: I;
  output: O;
  annotations: ToolAnnotations;
  request(args: Static<I>): ApiRequest;
  /** The structured result from the API's answer; default: the answer itself. */
  result?(args: Static<I>, answer: unknown): Static<O>;
  /** The text rendering of the result, for clients (and models) that read only text. */
  render(result: Static<O>, args: Static<I>): string;
}

/** A tool with its types erased, as the server lists and calls it. */
export interface McpTool {
  name: string;
  describe(): Tool;
  call(api: ApiCaller, args: Record<string, unknown>): Promise<CallToolResult>;
}

/** A JSON Schema as sent to clients: plain JSON, Elysia's numeric-string leniency removed. */
export function jsonSchema(schema: object): { type: "object"; [key: string]: unknown } {
  return numbersAsNumbers(JSON.parse(JSON.stringify(schema))) as { type: "object"; [key: string]: unknown };
}

export const toolError = (text: string): CallToolResult => ({ isError: true, content: [{ type: "text", text }] });

/** A refusal of the API, worded so a model can act on it (fix a field, wait, stop). */
export function describeProblem(problem: ApiProblem): string {
  if (problem.status === 0) return `The Memory API could not be reached: ${problem.detail}.`;
  const seconds = problem.retryAfterSeconds;
  // the 429's detail already says how long; other retryable answers get the wait from Retry-After
  const wait = seconds === undefined || problem.detail.includes(`${seconds} s`) ? "" : ` Retry after ${seconds} s.`;
  return `The Memory API refused the request (${problem.status} ${problem.code}): ${problem.detail}.${wait}`;
}

const MAX_REPORTED_ERRORS = 5;

function inputErrors(schema: TObject, args: unknown): string[] {
  const errors: string[] = [];
  for (const error of Value.Errors(schema, args)) {
    const field = fieldPath(error.path) || "arguments";
    const line = `${field}: ${error.message}`;
    if (!errors.includes(line)) errors.push(line);
    if (errors.length >= MAX_REPORTED_ERRORS) break;
  }
  return errors;
}

export function defineTool<I extends TObject, O extends TObject>(spec: ToolSpec<I, O>): McpTool {
  const inputSchema = jsonSchema(spec.input);
  const outputSchema = jsonSchema(spec.output);
  return {
    name: spec.name,
    describe: () => ({
      name: spec.name,
      title: spec.title,
      description: spec.description,
      inputSchema,
      outputSchema,
      annotations: { title: spec.title, ...spec.annotations },
    }),
    async call(api, args) {
      const errors = inputErrors(spec.input, args);
      if (errors.length > 0) return toolError(`Invalid arguments for ${spec.name}: ${errors.join("; ")}.`);
      const valid = args as Static<I>;
      const reply = await api(spec.request(valid));
      if (!reply.ok) return toolError(describeProblem(reply.problem));
      const result = spec.result ? spec.result(valid, reply.body) : (reply.body as Static<O>);
      return {
        content: [{ type: "text", text: spec.render(result, valid) }],
        structuredContent: result as Record<string, unknown>,
      };
    },
  };
}
