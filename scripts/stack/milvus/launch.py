"""Start the Milvus standalone server bundled in the `milvus` PyPI package, in the foreground.

Run with the venv's python (scripts/stack/milvus.ts does):

    .stack/milvus-venv/bin/python scripts/stack/milvus/launch.py --base .stack/milvus/data \
        --port 19530 --metrics-port 9091 --etcd-port 2379 --simd auto --log-level warn

Why not the package's `milvus-server` console script:
  * it silently moves the gRPC port to the next free one when 19530 is taken (its CLI flags
    only change the default the search starts from); here a taken port is an error;
  * it keeps a Python parent that ignores SIGTERM and does not reap the server: stopping it
    by pid would orphan Milvus. This script prepares the config and the extracted binaries
    with the package's own code, then exec()s the server: the pid the stack records is
    Milvus itself, and SIGTERM reaches it (graceful stop).
"""

import argparse
import os
import socket
import sys
from os.path import join

from milvus import MilvusServerConfig, _initialize_data_files, __version__


class Config(MilvusServerConfig):
    """The package's config, with a port check that ignores TIME_WAIT leftovers.

    The package tests a port by binding it without SO_REUSEADDR, so for a minute after a stop
    (the client sockets of the embedded etcd and of SDK clients linger in TIME_WAIT) the same
    port looks taken and a restart fails. Milvus (Go) binds with SO_REUSEADDR itself; so does
    this check: it still fails when something is listening there.
    """

    def try_bind_port(self, port):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
            sock.listen()
            return sock
        except OSError:
            sock.close()
            return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="base folder: bin/, configs/, data/, logs/")
    ap.add_argument("--port", type=int, default=19530)
    ap.add_argument("--metrics-port", type=int, default=9091)
    ap.add_argument("--etcd-port", type=int, default=2379)
    ap.add_argument("--simd", default="auto", choices=["auto", "avx512", "avx2", "avx", "sse4_2"])
    ap.add_argument("--log-level", default="warn", choices=["debug", "info", "warn", "error"])
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="one more milvus.yaml setting by its dotted key (repeatable)")
    args = ap.parse_args()
    base = os.path.abspath(args.base)

    # Ports given to the constructor are bound-checked and fail when taken; the other
    # (internal) ports keep the package's behaviour of taking the next free one.
    cfg = Config(data_dir=base, proxy_port=args.port, etcd_port=args.etcd_port)
    extra = {
        "common.simdType": args.simd,
        # default 1800 s. A stop sometimes hangs in a component until this forces the exit;
        # writes are already durable in the RocksMQ WAL (unflushed inserts survive a restart)
        "common.gracefulStopTimeout": 10,
        # a restart leaves the previous run's sessions in etcd until their lease expires, and
        # until then DDL stalls on "node not match" (default 30 s)
        "common.session.ttl": 10,
        # Growing (unsealed) segments are searched through an interim IVF index probing 16 of
        # 128 lists: filtered recall@10 fell to 0.6 on 20k rows. Searching them exhaustively
        # keeps recall exact at a few ms more.
        "queryNode.segcore.interimIndex.nprobe": 128,
        "log.level": args.log_level,
        "etcd.log.level": "warn" if args.log_level in ("debug", "info", "warn") else args.log_level,
        # register every component on loopback rather than the first non-loopback address
        # (the 2.3 gRPC servers still bind the wildcard address; nothing here can change that)
        "rootCoord.ip": "127.0.0.1",
        "proxy.ip": "127.0.0.1",
        "queryCoord.ip": "127.0.0.1",
        "queryNode.ip": "127.0.0.1",
        "indexNode.ip": "127.0.0.1",
        "dataCoord.ip": "127.0.0.1",
        "dataNode.ip": "127.0.0.1",
    }
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            sys.exit(f"milvus launcher: --set {item!r} is not KEY=VALUE")
        extra[key] = value
        # milvus.yaml keys the package's template lacks (kafka.*) reach Milvus as environment
        # variables, which it matches by the key without dots or underscores, case-insensitively
        os.environ[key.upper().replace(".", "_")] = value
    for key, value in extra.items():
        cfg.set(key, value)
    try:
        cfg.resolve()  # binds the ports to check them, writes configs/milvus.yaml
    except RuntimeError as e:
        sys.exit(f"milvus launcher: {e} (is 127.0.0.1:{args.port} or :{args.etcd_port} taken?)")
    # logs to stdout only (the stack's milvus.log) instead of a second copy under logs/
    cfg.set("system_log_path", "")
    cfg.write_config()
    _initialize_data_files(base)

    metrics = cfg.try_bind_port(args.metrics_port)
    if not metrics:
        sys.exit(f"milvus launcher: metrics/health port {args.metrics_port} is taken")
    metrics.close()

    exe = join(base, "bin", "milvus")
    env = dict(os.environ)
    env.update({
        "DEPLOY_MODE": "STANDALONE",
        "METRICS_PORT": str(args.metrics_port),
        "MILVUSCONF": join(base, "configs"),
        "MILVUS_RUN_DIR": join(base, "run"),
        "LD_LIBRARY_PATH": ":".join(filter(None, [join(base, "bin"), os.environ.get("LD_LIBRARY_PATH")])),
    })
    os.makedirs(join(base, "run"), exist_ok=True)
    print(f"milvus launcher: Milvus {__version__}, gRPC 127.0.0.1:{args.port}, "
          f"health http://127.0.0.1:{args.metrics_port}/healthz, simd {args.simd}, config {join(base, 'configs', 'milvus.yaml')}",
          flush=True)
    os.chdir(base)
    os.execve(exe, [exe, "run", "standalone"], env)


if __name__ == "__main__":
    main()
