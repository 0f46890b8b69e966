/**
 * Poe's server-bot protocol (https://creator.poe.com/docs/server-bots/poe-protocol-specification),
 * as fastapi-poe 0.0.83 implements it: every request is a POST with
 * `Authorization: Bearer <access key>` and a JSON body `{version, type, …}`; `query` is answered
 * with server-sent events (`meta` first, then `text`…, then `done`; or `error`), `settings` with
 * a JSON settings object, the `report_*` types with `{}`. Extra fields are allowed: Poe adds new
 * ones over time.
 */
import { t, type Static } from "elysia";

const Message = t.Object({
  role: t.Union([t.Literal("system"), t.Literal("user"), t.Literal("bot"), t.Literal("tool")]),
  content: t.String(),
});

const base = { version: t.String() };

export const QueryRequest = t.Object({
  ...base,
  type: t.Literal("query"),
  query: t.Array(Message),
  user_id: t.String(),
  conversation_id: t.String(),
  message_id: t.String(),
});

export const PoeRequest = t.Union([
  QueryRequest,
  t.Object({ ...base, type: t.Literal("settings") }),
  t.Object({ ...base, type: t.Literal("report_feedback"), message_id: t.String(), user_id: t.String(), conversation_id: t.String(), feedback_type: t.String() }),
  t.Object({ ...base, type: t.Literal("report_reaction"), message_id: t.String(), user_id: t.String(), conversation_id: t.String(), reaction: t.String() }),
  t.Object({ ...base, type: t.Literal("report_error"), message: t.String(), metadata: t.Optional(t.Record(t.String(), t.Unknown())) }),
]);

export type PoeRequest = Static<typeof PoeRequest>;
export type QueryRequest = Static<typeof QueryRequest>;

/** The settings answer (fastapi-poe's SettingsResponse; response_version 2 defaults for the rest). */
export interface SettingsResponse {
  response_version: 2;
  introduction_message: string;
  allow_attachments: boolean;
  expand_text_attachments: boolean;
  enable_image_comprehension: boolean;
  server_bot_dependencies: Record<string, number>;
}

export type BotEvent =
  | { event: "meta"; data: { content_type: "text/markdown"; linkify: boolean; suggested_replies: boolean; refetch_settings: boolean } }
  | { event: "text"; data: { text: string } }
  | { event: "error"; data: { text: string; allow_retry: boolean; error_type?: string } }
  | { event: "done"; data: Record<string, never> };

export const encodeEvent = (e: BotEvent) => `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`;

/** The text of the last user message; "" when there is none. */
export function lastUserMessage(request: QueryRequest): string {
  for (let i = request.query.length - 1; i >= 0; i--) {
    const message = request.query[i]!;
    if (message.role === "user") return message.content.trim();
  }
  return "";
}
