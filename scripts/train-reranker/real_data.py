"""Builds the reranker's training groups from real, human-written and human-labelled data:
SQuAD v1.1 (dev split), crowd-written questions over Wikipedia paragraphs (CC BY-SA 4.0).
Provenance and checksums: data/README.md.

    python real_data.py --source DIR    # DIR holds dev-v1.1.json.zip (or dev-v1.1.json)

A group is a question, its paragraph (the positive) and 7 negative paragraphs: the 3 best
BM25 matches, 2 other paragraphs of the same article, 2 random ones. A paragraph that contains
one of the question's answers is never a negative. Paragraphs are cut to 80 words; questions
whose answer falls past the cut are dropped. Whole articles are held out (500 groups) for
train.py's sanity metric. Articles that are also in the quality eval's Climate-FEVER set
(bench/data) are left out. Seeded: the same source gives a byte-identical output.

Output: data/squad.json.gz, {"source", "passages": [text], "train"/"heldout": [{"q", "pos", "neg"}]}
(passages by index, so that each paragraph is stored once).
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import math
import random
import re
import sys
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from data import terms  # noqa: E402  (the generator's BM25 tokeniser)

SOURCE_SHA256 = "95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9"  # dev-v1.1.json
CLIMATE_FEVER = HERE.parent.parent / "bench" / "data" / "climate-fever.json.gz"
OUT = HERE / "data" / "squad.json.gz"
# The service and bench:quality cut query + passage at 128 tokens (RERANK_MAX_LENGTH); 80 words
# are ~105 tokens, so most positives (86%) fit whole with their question and few lose their answer.
MAX_WORDS = 80
HELDOUT = 500
NEGATIVES = {"bm25": 3, "article": 2, "random": 2}


def read_source(folder: Path) -> dict:
    z = folder / "dev-v1.1.json.zip"
    raw = zipfile.ZipFile(z).read("dev-v1.1.json") if z.exists() else (folder / "dev-v1.1.json").read_bytes()
    got = hashlib.sha256(raw).hexdigest()
    if got != SOURCE_SHA256:
        raise SystemExit(f"dev-v1.1.json: sha256 {got} is not the pinned {SOURCE_SHA256}")
    return json.loads(raw)


def norm(text: str) -> str:
    return " " + " ".join(re.findall(r"[a-z0-9]+", text.lower())) + " "


class BM25:
    """Inverted-index BM25 (k1 1.2, b 0.75) over the data.py tokeniser."""

    def __init__(self, texts: list[str]):
        docs = [Counter(terms(t)) for t in texts]
        self.len = [sum(d.values()) for d in docs]
        self.avg = sum(self.len) / len(docs)
        self.post: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, d in enumerate(docs):
            for w, tf in d.items():
                self.post[w].append((i, tf))
        n = len(docs)
        self.idf = {w: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for w, p in self.post.items()}

    def ranked(self, query: str) -> list[int]:
        s: dict[int, float] = defaultdict(float)
        for w in set(terms(query)):
            for i, tf in self.post.get(w, ()):
                s[i] += self.idf[w] * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * self.len[i] / self.avg))
        return sorted(s, key=lambda i: (-s[i], i))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True, help="folder with dev-v1.1.json.zip or dev-v1.1.json")
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    rng = random.Random(f"squad:{args.seed}")

    squad = read_source(Path(args.source))
    eval_titles = {d["id"].rsplit(":", 1)[0] for d in json.load(gzip.open(CLIMATE_FEVER))["documents"]}
    articles = [a for a in squad["data"] if a["title"].replace("_", " ") not in eval_titles]
    left_out = sorted(a["title"] for a in squad["data"] if a not in articles)

    passages: list[str] = []
    article_of: list[int] = []
    questions = []  # (article, passage index, question, normalised answers)
    dropped = 0
    for ai, a in enumerate(articles):
        for p in a["paragraphs"]:
            ctx = p["context"]
            words = ctx.split()
            pi = len(passages)
            passages.append(" ".join(words[:MAX_WORDS]))
            article_of.append(ai)
            for qa in p["qas"]:
                ends = [len(ctx[: x["answer_start"]].split()) + len(x["text"].split()) for x in qa["answers"]]
                if min(ends) > MAX_WORDS:
                    dropped += 1
                    continue
                questions.append((ai, pi, qa["question"].strip(), {norm(x["text"]) for x in qa["answers"]}))
    by_article = defaultdict(list)
    for pi, ai in enumerate(article_of):
        by_article[ai].append(pi)
    normed = [norm(t) for t in passages]
    bm25 = BM25(passages)

    order = list(range(len(articles)))
    rng.shuffle(order)
    held: set[int] = set()
    for ai in order:
        if sum(q[0] in held for q in questions) >= HELDOUT:
            break
        held.add(ai)

    def group(ai: int, pi: int, q: str, answers: set[str]) -> dict:
        chosen: list[int] = []

        def ok(c: int) -> bool:
            # negatives come from the group's own split, so held-out paragraphs are never trained on
            return (c != pi and c not in chosen and (article_of[c] in held) == (ai in held)
                    and not any(x in normed[c] for x in answers))

        chosen += [c for c in bm25.ranked(q) if ok(c)][: NEGATIVES["bm25"]]
        same = [c for c in by_article[ai] if ok(c)]
        chosen += rng.sample(same, min(NEGATIVES["article"], len(same)))
        while len(chosen) < sum(NEGATIVES.values()):
            c = rng.randrange(len(passages))
            if ok(c):
                chosen.append(c)
        return {"q": q, "pos": pi, "neg": chosen}

    groups = [group(*q) for q in questions]
    train = [g for g, q in zip(groups, questions) if q[0] not in held]
    heldout = rng.sample([g for g, q in zip(groups, questions) if q[0] in held], HELDOUT)
    rng.shuffle(train)

    out = {
        "source": "SQuAD v1.1 dev (Rajpurkar et al. 2016), CC BY-SA 4.0; see data/README.md",
        "passages": passages,
        "train": train,
        "heldout": heldout,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=9) as f:
        f.write(json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode())
    OUT.write_bytes(buf.getvalue())
    print(f"articles {len(articles)} (left out, also in Climate-FEVER: {', '.join(left_out)}); "
          f"held out {len(held)}: {', '.join(sorted(articles[i]['title'] for i in held))}")
    print(f"passages {len(passages)}; questions {len(questions)} (dropped {dropped}: answer past {MAX_WORDS} words); "
          f"groups train {len(train)}, heldout {len(heldout)}")
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB, sha256 {hashlib.sha256(OUT.read_bytes()).hexdigest()})")


if __name__ == "__main__":
    main()
