/**
 * The Poe server bot as an Elysia app: `buildPoeBot(deps)` (no I/O until it is served).
 * Every request must carry the access key (401 otherwise, before the body is even read);
 * a query is answered from the Memory API as a stream that always ends with `done`.
 */
import { Elysia } from "elysia";
import type { Logger } from "../../src/log";
import type { MemoryClient } from "../typescript/memory-client";
import type { PoeBotConfig } from "./config";
import { composeAnswer } from "./answer";
import { PoeRequest, encodeEvent, lastUserMessage, type BotEvent, type QueryRequest, type SettingsResponse } from "./protocol";
import { Retriever, explainFailure } from "./retrieve";

export interface PoeBotDeps {
  config: Pick<PoeBotConfig, "accessKey" | "collectionId" | "topK" | "rerank" | "minSimilarity" | "searchTimeoutMs" | "introduction" | "memoryToken">;
  client: MemoryClient;
  log: Logger;
}

function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

export function buildPoeBot({ config, client, log }: PoeBotDeps) {
  const retriever = new Retriever(client, config, config.memoryToken, () =>
    log.warn("the Memory API refused rerank for this token (not premium); answering unreranked from now on"),
  );
  const settings: SettingsResponse = {
    response_version: 2,
    introduction_message: config.introduction,
    allow_attachments: false,
    expand_text_attachments: false,
    enable_image_comprehension: false,
    server_bot_dependencies: {},
  };

  const answer = (request: QueryRequest): Response => {
    const started = performance.now();
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        const send = (event: BotEvent) => controller.enqueue(encoder.encode(encodeEvent(event)));
        send({ event: "meta", data: { content_type: "text/markdown", linkify: true, suggested_replies: false, refetch_settings: false } });
        const fields: Record<string, unknown> = { conversation_id: request.conversation_id, message_id: request.message_id };
        try {
          const question = lastUserMessage(request);
          if (!question) {
            send({ event: "text", data: { text: "Send me a question in words and I will look for it in your memories." } });
          } else {
            const { hits, reranked } = await retriever.retrieve(question);
            for (const part of composeAnswer(question, hits)) send({ event: "text", data: { text: part } });
            Object.assign(fields, { hits: hits.length, reranked });
          }
          fields.outcome = "answered";
        } catch (error) {
          const { text, allowRetry } = explainFailure(error, config.searchTimeoutMs);
          send({ event: "error", data: { text, allow_retry: allowRetry } });
          fields.outcome = "error";
          fields.error = (error as Error).message;
        } finally {
          send({ event: "done", data: {} });
          controller.close();
          log.info("poe query", { ...fields, took_ms: Math.round(performance.now() - started) });
        }
      },
    });
    return new Response(stream, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" },
    });
  };

  return new Elysia({ name: "poe-bot" })
    .onRequest(({ request }) => {
      const header = request.headers.get("authorization") ?? "";
      const match = /^Bearer\s+(.+)$/i.exec(header);
      if (!match || !constantTimeEqual(match[1]!.trim(), config.accessKey)) {
        return Response.json({ detail: "Invalid access key" }, { status: 401, headers: { "www-authenticate": "Bearer" } });
      }
    })
    .onError(({ code, error }) => {
      if (code === "VALIDATION") {
        return Response.json({ detail: `not a Poe protocol request: ${(error as Error).message.split("\n")[0]}` }, { status: 422 });
      }
      if (code === "PARSE") return Response.json({ detail: "the body is not JSON" }, { status: 400 });
      if (code === "NOT_FOUND") return Response.json({ detail: "not found: Poe posts to /" }, { status: 404 });
    })
    .post(
      "/",
      ({ body }) => {
        switch (body.type) {
          case "query":
            return answer(body);
          case "settings":
            return settings;
          case "report_feedback":
            log.info("poe feedback", { message_id: body.message_id, feedback_type: body.feedback_type });
            return {};
          case "report_reaction":
            log.info("poe reaction", { message_id: body.message_id, reaction: body.reaction });
            return {};
          case "report_error":
            log.warn("poe reported an error in this bot's answer", { message: body.message.slice(0, 500) });
            return {};
        }
      },
      { body: PoeRequest },
    );
}
