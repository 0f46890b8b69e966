"""The Memory API's MCP server driven by the official MCP Python SDK (PyPI `mcp`), a client
written by other people in another language: over Streamable HTTP (with a bearer header) and over
stdio (starting `bun run mcp`). Prints, as one JSON object, what it saw; the bun test judges it.

    python mcp_client.py '{"url": ..., "mcp_url": ..., "pro_token": ..., "free_token": ...,
                           "bun": ..., "root": ..., "transports": ["http", "stdio"]}'
"""

import asyncio
import json
import sys
import uuid

import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError


def http_transport(config, token, statuses=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    hooks = {}
    if statuses is not None:
        # the SDK reports any non-JSON-RPC error answer as one generic error: record what the server said

        async def record(response):
            statuses.append(response.status_code)

        hooks["response"] = [record]
    client = httpx2.AsyncClient(headers=headers, timeout=60, event_hooks=hooks)
    return streamable_http_client(config["mcp_url"], http_client=client)


def stdio_transport(config, token):
    return StdioServerParameters(
        command=config["bun"],
        args=["run", "mcp"],
        cwd=config["root"],
        env={"MEMORY_API_URL": config["url"], "MEMORY_API_TOKEN": token, "PATH": config["path"]},
    )


def connect(config, transport, token, statuses=None):
    server = http_transport(config, token, statuses) if transport == "http" else stdio_transport(config, token)
    return Client(server)


def text_of(result):
    return result.content[0].text


async def scenario(config, transport):
    seen = {}
    async with connect(config, transport, config["pro_token"]) as client:
        seen["server"] = client.server_info.name
        seen["protocol_version"] = client.protocol_version
        seen["instructions_mention_list_collections"] = "list_collections" in (client.instructions or "")
        tools = (await client.list_tools()).tools
        seen["tools"] = [tool.name for tool in tools]
        seen["tools_with_output_schema"] = sum(1 for tool in tools if tool.output_schema)
        seen["read_only_tools"] = sorted(t.name for t in tools if t.annotations and t.annotations.read_only_hint)

        created = await client.call_tool("create_collection", {"name": f"py-{transport}-{uuid.uuid4()}"})
        cid = created.structured_content["id"]
        seen["create_collection"] = {"is_error": created.is_error, "text_has_id": cid in text_of(created)}
        listed = await client.call_tool("list_collections", {})
        seen["list_collections"] = [c["id"] for c in listed.structured_content["collections"]].count(cid)

        added = await client.call_tool(
            "add_memories",
            {
                "collection_id": cid,
                "memories": [
                    {"content": "Marta prefers window seats on long flights.", "metadata": {"kind": "preference"}},
                    {"id": "invoice-42", "content": "Invoice INV-2291 was paid on 3 March.", "metadata": {"kind": "billing"}},
                    {"content": "Marta's manager is Oskar.", "metadata": {"kind": "people"}},
                    {"content": "Oskar lives in Tallinn.", "metadata": {"kind": "people"}},
                ],
            },
        )
        seen["add_memories"] = added.structured_content

        results = {}
        for search_type, query in [
            ("semantic", "which seat does Marta like on a plane?"),
            ("keyword", "INV-2291"),
            ("hybrid", "seat preference"),
            ("graph", "Where does Marta's manager live?"),
        ]:
            answer = await client.call_tool("search_memories", {"collection_id": cid, "query": query, "search_type": search_type, "top_k": 2})
            hits = answer.structured_content["results"]
            results[search_type] = {
                "search_type": answer.structured_content["search_type"],
                "top": hits[0]["content"],
                "paths": {hit["content"]: hit.get("path") for hit in hits},
            }
        filtered = await client.call_tool(
            "search_memories",
            {"collection_id": cid, "query": "Marta", "search_type": "hybrid", "filters": {"metadata": {"kind": {"$in": ["billing", "people"]}}}},
        )
        results["filtered_kinds"] = sorted({r["metadata"]["kind"] for r in filtered.structured_content["results"]})
        seen["search"] = results

        got = await client.call_tool("get_memory", {"collection_id": cid, "memory_id": "invoice-42"})
        seen["get_memory"] = got.structured_content["content"]
        updated = await client.call_tool("update_memory", {"collection_id": cid, "memory_id": "invoice-42", "metadata": {"kind": "billing", "paid": True}})
        seen["update_memory"] = updated.structured_content["metadata"]
        page = await client.call_tool("list_memories", {"collection_id": cid, "limit": 3})
        seen["list_memories"] = {"count": len(page.structured_content["memories"]), "has_next": page.structured_content["next_cursor"] is not None}
        entity = await client.call_tool("get_entity", {"collection_id": cid, "name": "Oskar"})
        seen["get_entity"] = sorted(n["relation"] for n in entity.structured_content["neighbours"])
        entities = await client.call_tool("list_entities", {"collection_id": cid, "q": "osk"})
        seen["list_entities"] = [e["name"] for e in entities.structured_content["entities"]]
        deleted = await client.call_tool("delete_memory", {"collection_id": cid, "memory_id": "invoice-42"})
        seen["delete_memory"] = deleted.structured_content
        gone = await client.call_tool("get_memory", {"collection_id": cid, "memory_id": "invoice-42"})
        seen["get_deleted"] = {"is_error": gone.is_error, "text": text_of(gone)}
        bad = await client.call_tool("search_memories", {"collection_id": cid, "query": "x", "top_k": 500})
        seen["invalid_arguments"] = {"is_error": bad.is_error, "text": text_of(bad)}

        resources = (await client.list_resources()).resources
        seen["resources"] = [{"uri": str(r.uri), "name": r.name, "mime_type": r.mime_type} for r in resources if str(r.uri).endswith(cid)]
        read = await client.read_resource(f"memory://collections/{cid}")
        body = json.loads(read.contents[0].text)
        seen["read_resource"] = {"collection": body["collection"]["id"] == cid, "memories": len(body["memories"])}
        try:
            await client.read_resource("memory://collections/nope")
            seen["read_missing"] = None
        except MCPError as error:
            seen["read_missing"] = {"code": error.code, "message": error.error.message}

    async with connect(config, transport, config["free_token"]) as free:
        created = await free.call_tool("create_collection", {"name": f"py-free-{uuid.uuid4()}"})
        refused = await free.call_tool(
            "search_memories", {"collection_id": created.structured_content["id"], "query": "anything", "rerank": True}
        )
        seen["free_rerank"] = {"is_error": refused.is_error, "text": text_of(refused), "structured": refused.structured_content}

    if transport == "http":
        statuses = []
        try:
            async with connect(config, "http", None, statuses) as anonymous:
                await anonymous.list_tools()
            seen["no_token"] = None
        except Exception as error:  # an MCPError, possibly inside the transport's ExceptionGroup
            seen["no_token"] = {"message": describe(error), "http_statuses": statuses}
    return seen


def describe(error):
    """The innermost messages of a (possibly grouped) exception."""
    nested = getattr(error, "exceptions", None)
    if nested:
        return " | ".join(describe(e) for e in nested)
    return f"{type(error).__name__}: {error}"


async def main():
    config = json.loads(sys.argv[1])
    report = {}
    for transport in config["transports"]:
        report[transport] = await scenario(config, transport)
    print(json.dumps(report))


asyncio.run(main())
