"""
Calls a Poe server bot the way Poe's servers do, with the official client of fastapi-poe
(pinned in scripts/python-venv.ts): `stream_request` for queries (its base_url + bot_name is
the bot's URL; api_key is sent as `Authorization: Bearer`), and the client's bot context
(`_BotContext`, what stream_request itself uses) for settings and the report_* requests.

usage: python poe_client.py '{"url": "http://127.0.0.1:PORT/", "key": "...", "steps": [...]}'
Prints one JSON object with the outcome of each step.
"""
import asyncio
import json
import sys
import time

import httpx
import fastapi_poe as fp
from fastapi_poe.client import _BotContext


def query_request(question, history=()):
    messages = [fp.ProtocolMessage(role=role, content=content) for role, content in history]
    messages.append(fp.ProtocolMessage(role="user", content=question))
    return fp.QueryRequest(
        version="1.2",
        type="query",
        query=messages,
        user_id="u-test",
        conversation_id="c-test",
        message_id=f"m-{time.monotonic_ns()}",
    )


async def run(spec):
    statuses = []

    async def record(response):
        statuses.append(response.status_code)

    out = []
    async with httpx.AsyncClient(timeout=60, event_hooks={"response": [record]}) as session:
        for step in spec["steps"]:
            key = step.get("key", spec["key"])
            statuses.clear()
            result = {"kind": step["kind"]}
            started = time.perf_counter()
            try:
                if step["kind"] == "query":
                    texts, metas = [], []
                    async for message in fp.stream_request(
                        query_request(step["question"], step.get("history", [])),
                        bot_name="",
                        api_key=key,
                        base_url=spec["url"],
                        session=session,
                        num_tries=1,
                        on_error=lambda e, msg: None,
                    ):
                        if isinstance(message, fp.MetaResponse):
                            metas.append({"content_type": message.content_type, "linkify": message.linkify})
                        else:
                            texts.append(message.text)
                    result.update(text="".join(texts), parts=len(texts), meta=metas)
                else:
                    ctx = _BotContext(endpoint=spec["url"], session=session, api_key=key)
                    if step["kind"] == "settings":
                        settings = await ctx.fetch_settings()
                        # extra="forbid": an unknown or mistyped field fails here
                        result["settings"] = fp.SettingsResponse.model_validate(settings).model_dump(exclude_none=True)
                    elif step["kind"] == "report_feedback":
                        await ctx.report_feedback("m-1", "u-test", "c-test", "like")
                    elif step["kind"] == "report_reaction":
                        await ctx.report_reaction("m-1", "u-test", "c-test", "heart")
                    elif step["kind"] == "report_error":
                        await ctx.report_error("test error report", {"message_id": "m-1"})
            except fp.BotError as error:
                result["bot_error"] = str(error)
                result["bot_error_type"] = type(error).__name__
                if error.__cause__ is not None:
                    result["cause"] = repr(error.__cause__)
            except Exception as error:  # a client-side failure: reported, not raised
                result["exception"] = repr(error)
            result["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
            result["statuses"] = list(statuses)
            out.append(result)
    return out


print(json.dumps(asyncio.run(run(json.loads(sys.argv[1])))))
