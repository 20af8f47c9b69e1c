"""A small, real HTTP stand-in for the Hugging Face Hub endpoints huggingface_hub 2.x calls.

    hub = HubStandIn(token="hf_test").start()     # http://127.0.0.1:<port>, in a thread
    HfApi(endpoint=hub.url, token="hf_test")       # the real client, pointed at it
    hub.files("org/vault")                         # {path: bytes} at the head commit
    hub.commits                                    # one entry per commit, with its operations
    hub.fail_commits = 1                           # the next commit answers HTTP 500
    hub.stop()

Endpoints (shapes as the Hub sends them; see huggingface_hub/_commit_api.py, lfs.py,
file_download.py and hf_api.py):
  GET  /api/datasets/{repo}[/revision/{rev}]          repo info
  POST /api/repos/create                              create (409 if it exists)
  POST /api/validate-yaml                             README.md metadata check
  POST /api/datasets/{repo}/preupload/{rev}           uploadMode lfs | regular per file
  POST /datasets/{repo}.git/info/lfs/objects/batch    basic transfer: upload + verify hrefs
  PUT  /lfs/{oid}, POST /lfs-verify                   the LFS object store (sha256 checked)
  POST /api/datasets/{repo}/commit/{rev}              ndjson: header, file, lfsFile, deleted*
  GET  /api/datasets/{repo}/tree/{rev}[/{path}]       paginated with a Link rel="next" header
  HEAD/GET /datasets/{repo}/resolve/{rev}/{path}      ETag, X-Repo-Commit, Content-Length
Xet is never advertised (no X-Xet-* headers, batch transfer "basic"), so the client uses LFS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from atlas_simulator.background import BackgroundServer

LFS_SUFFIXES = (".parquet", ".jpg", ".jpeg", ".png", ".bin")
LFS_THRESHOLD = 10 * 1024 * 1024


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class StoredFile:
    data: bytes
    lfs: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def oid(self) -> str:
        return self.sha256 if self.lfs else git_blob_oid(self.data)


@dataclass
class Repo:
    private: bool
    head: str = field(default_factory=lambda: secrets.token_hex(20))
    files: dict[str, StoredFile] = field(default_factory=dict)


class HubStandIn(BackgroundServer):
    """The Hub's HTTP API for dataset repos, in memory, on 127.0.0.1."""

    def __init__(self, token: str | None = None, page_size: int = 50) -> None:
        self.token = token
        self.page_size = page_size
        self.repos: dict[str, Repo] = {}
        self.lfs: dict[str, bytes] = {}
        self.commits: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self.auth_headers: list[str] = []
        self.fail_commits = 0
        self.lock = threading.RLock()
        super().__init__(ThreadingHTTPServer(("127.0.0.1", 0), _handler(self)), name="hf-hub")

    @property
    def url(self) -> str:
        return self.address

    def reset(self) -> None:
        with self.lock:
            self.repos.clear()
            self.lfs.clear()
            self.commits.clear()
            self.requests.clear()
            self.auth_headers.clear()
            self.fail_commits = 0

    def files(self, repo_id: str) -> dict[str, bytes]:
        with self.lock:
            return {p: f.data for p, f in self.repos[repo_id].files.items()}


_REPO = r"(?P<repo>[^/]+/[^/]+)"
_REV = r"(?P<rev>[^/]+)"
ROUTES = [
    ("GET", re.compile(rf"^/api/datasets/{_REPO}(?:/revision/{_REV})?$"), "repo_info"),
    ("POST", re.compile(r"^/api/repos/create$"), "create"),
    ("POST", re.compile(r"^/api/validate-yaml$"), "validate_yaml"),
    ("POST", re.compile(rf"^/api/datasets/{_REPO}/preupload/{_REV}$"), "preupload"),
    ("POST", re.compile(rf"^/datasets/{_REPO}\.git/info/lfs/objects/batch$"), "lfs_batch"),
    ("PUT", re.compile(r"^/lfs/(?P<oid>[0-9a-f]{64})$"), "lfs_put"),
    ("POST", re.compile(r"^/lfs-verify$"), "lfs_verify"),
    ("POST", re.compile(rf"^/api/datasets/{_REPO}/commit/{_REV}$"), "commit"),
    ("GET", re.compile(rf"^/api/datasets/{_REPO}/tree/{_REV}(?:/(?P<path>.+))?$"), "tree"),
    ("HEAD", re.compile(rf"^/datasets/{_REPO}/resolve/{_REV}/(?P<path>.+)$"), "resolve"),
    ("GET", re.compile(rf"^/datasets/{_REPO}/resolve/{_REV}/(?P<path>.+)$"), "resolve"),
]


class _Reply(Exception):
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def _not_found(code: str, message: str, commit: str | None = None) -> _Reply:
    headers = {"X-Error-Code": code, "X-Error-Message": message}
    if commit:
        headers["X-Repo-Commit"] = commit
    return _Reply(404, {"error": message}, headers)


def _handler(hub: HubStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as separate writes

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().strip(), 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            if not isinstance(body, bytes):
                self.send_header("Content-Type", "application/json")
            for key, value in headers.items():
                self.send_header(key, value)
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(raw)

        def _dispatch(self) -> None:
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            body = self._body()
            with hub.lock:
                hub.requests.append((self.command, path))
                hub.auth_headers.append(self.headers.get("Authorization", ""))
            try:
                for method, pattern, name in ROUTES:
                    match = pattern.match(path)
                    if match and method == self.command:
                        if hub.token and name not in ("lfs_put",):
                            if self.headers.get("Authorization") != f"Bearer {hub.token}":
                                raise _Reply(401, {"error": "Invalid credentials"})
                        with hub.lock:
                            getattr(self, "do_" + name)(match.groupdict(), query, body)
                        return
                raise _Reply(404, {"error": f"no route {self.command} {path}"})
            except _Reply as reply:
                self._send(reply.status, reply.body, reply.headers)

        do_GET = do_POST = do_PUT = do_HEAD = _dispatch

        # -- routes ------------------------------------------------------------------------
        def _repo(self, repo_id: str) -> Repo:
            if repo_id not in hub.repos:
                raise _not_found("RepoNotFound", "Repository not found")
            return hub.repos[repo_id]

        def do_repo_info(self, m: dict[str, str], q: dict[str, str], body: bytes) -> None:
            repo = self._repo(m["repo"])
            siblings = [{"rfilename": p} for p in sorted(repo.files)]
            info = {"id": m["repo"], "sha": repo.head, "private": repo.private}
            raise _Reply(200, {**info, "siblings": siblings, "tags": [], "downloads": 0})

        def do_create(self, m: dict[str, str], q: dict[str, str], body: bytes) -> None:
            payload = json.loads(body)
            repo_id = f"{payload.get('organization') or 'atlas'}/{payload['name']}"
            if payload.get("type") != "dataset":
                raise _Reply(400, {"error": "the stand-in only hosts dataset repos"})
            if repo_id in hub.repos:
                raise _Reply(409, {"error": "You already created this dataset repo"})
            hub.repos[repo_id] = Repo(private=payload.get("visibility") == "private")
            raise _Reply(200, {"url": f"{hub.url}/datasets/{repo_id}", "name": repo_id})

        def do_validate_yaml(self, m: dict[str, str], q: dict[str, str], body: bytes) -> None:
            raise _Reply(200, {"errors": [], "warnings": []})

        def do_preupload(self, m: dict[str, str], q: dict[str, str], body: bytes) -> None:
            repo = self._repo(m["repo"])
            answers = []
            for item in json.loads(body)["files"]:
                lfs = item["path"].endswith(LFS_SUFFIXES) or item["size"] > LFS_THRESHOLD
                existing = repo.files.get(item["path"])
                answers.append(
                    {
                        "path": item["path"],
                        "uploadMode": "lfs" if lfs else "regular",
                        "shouldIgnore": False,
                        "oid": existing.oid if existing else None,
                    }
                )
            raise _Reply(200, {"files": answers, "commitOid": repo.head})

        def do_lfs_batch(self, m: dict[str, str], q: dict[str, str], body: bytes) -> None:
            self._repo(m["repo"])
            payload = json.loads(body)
            if payload.get("operation") != "upload" or "basic" not in payload.get("transfers"):
                raise _Reply(422, {"message": "expected an upload with the basic transfer"})
            objects = []
            for obj in payload["objects"]:
                entry: dict[str, Any] = {"oid": obj["oid"], "size": obj["size"]}
                if obj["oid"] not in hub.lfs:
                    entry["authenticated"] = True
                    entry["actions"] = {
                        "upload": {"href": f"{hub.url}/lfs/{obj['oid']}", "header": {}},
                        "verify": {"href": f"{hub.url}/lfs-verify", "header": {}},
                    }
                objects.append(entry)
            raise _Reply(
                200,
                {"transfer": "basic", "objects": objects, "hash_algo": "sha256"},
                {"Content-Type": "application/vnd.git-lfs+json"},
            )

        def do_lfs_put(self, m: dict[str, str], q: dict[str, str], body: bytes) -> None:
            if hashlib.sha256(body).hexdigest() != m["oid"]:
                raise _Reply(400, {"error": "sha256 of the body does not match the oid"})
            hub.lfs[m["oid"]] = body
            raise _Reply(200, b"", {"ETag": f'"{m["oid"][:32]}"'})

        def do_lfs_verify(self, m: dict[str, str], q: dict[str, str], body: bytes) -> None:
            payload = json.loads(body)
            stored = hub.lfs.get(payload["oid"])
            if stored is None or len(stored) != payload["size"]:
                raise _Reply(404, {"message": "object not uploaded"})
            raise _Reply(200, {"success": True})

        def do_commit(self, m: dict[str, str], q: dict[str, str], body: bytes) -> None:
            repo = self._repo(m["repo"])
            if hub.fail_commits:
                hub.fail_commits -= 1
                raise _Reply(500, {"error": "Internal Error - We're working hard to fix this"})
            lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
            if not lines or lines[0]["key"] != "header":
                raise _Reply(400, {"error": "the first ndjson line must be the header"})
            files = dict(repo.files)
            for line in lines[1:]:
                key, value = line["key"], line["value"]
                path = value["path"]
                if key == "file":
                    files[path] = StoredFile(base64.b64decode(value["content"]), lfs=False)
                elif key == "lfsFile":
                    if value["oid"] not in hub.lfs:
                        raise _Reply(400, {"error": f"LFS object {value['oid']} is missing"})
                    files[path] = StoredFile(hub.lfs[value["oid"]], lfs=True)
                elif key == "deletedFile":
                    if path not in files:
                        raise _not_found("EntryNotFound", "A file with this name doesn't exist")
                    del files[path]
                elif key == "deletedFolder":
                    for name in [p for p in files if p.startswith(path.rstrip("/") + "/")]:
                        del files[name]
                else:
                    raise _Reply(400, {"error": f"unknown ndjson key {key!r}"})
            repo.files = files
            repo.head = secrets.token_hex(20)
            hub.commits.append(
                {"repo": m["repo"], "summary": lines[0]["value"]["summary"], "ops": lines[1:]}
            )
            url = f"{hub.url}/datasets/{m['repo']}/commit/{repo.head}"
            raise _Reply(200, {"success": True, "commitOid": repo.head, "commitUrl": url})

        def do_tree(self, m: dict[str, str], q: dict[str, str], body: bytes) -> None:
            repo = self._repo(m["repo"])
            base = (m.get("path") or "").strip("/")
            inside = [p for p in sorted(repo.files) if not base or p.startswith(base + "/")]
            if base and not inside:
                raise _not_found("EntryNotFound", f"{base} does not exist", repo.head)
            recursive = q.get("recursive", "false").lower() == "true"
            entries: dict[str, dict[str, Any]] = {}
            for path in inside:
                rest = path[len(base) + 1 :] if base else path
                if "/" in rest and not recursive:
                    folder = (f"{base}/" if base else "") + rest.split("/", 1)[0]
                    entries[folder] = {"type": "directory", "oid": "0" * 40, "path": folder}
                    continue
                if recursive:
                    parents = rest.split("/")[:-1]
                    for depth in range(1, len(parents) + 1):
                        folder = (f"{base}/" if base else "") + "/".join(parents[:depth])
                        entries[folder] = {"type": "directory", "oid": "0" * 40, "path": folder}
                stored = repo.files[path]
                entry: dict[str, Any] = {
                    "type": "file",
                    "oid": git_blob_oid(stored.data),
                    "size": len(stored.data),
                    "path": path,
                }
                if stored.lfs:
                    entry["lfs"] = {
                        "oid": stored.sha256,
                        "size": len(stored.data),
                        "pointerSize": 134,
                    }
                entries[path] = entry
            listing = [entries[k] for k in sorted(entries)]
            start = int(q.get("cursor", "0"))
            page = listing[start : start + hub.page_size]
            headers = {}
            if start + hub.page_size < len(listing):
                nxt = f"{hub.url}{urlsplit(self.path).path}?recursive={q.get('recursive', 'false')}"
                nxt += f"&expand={q.get('expand', 'false')}&cursor={start + hub.page_size}"
                headers["Link"] = f'<{nxt}>; rel="next"'
            raise _Reply(200, page, headers)

        def do_resolve(self, m: dict[str, str], q: dict[str, str], body: bytes) -> None:
            repo = self._repo(m["repo"])
            stored = repo.files.get(m["path"])
            if stored is None:
                raise _not_found("EntryNotFound", "Entry not found", repo.head)
            headers = {
                "ETag": f'"{stored.oid}"',
                "X-Repo-Commit": repo.head,
                "Content-Length": str(len(stored.data)),
                "Accept-Ranges": "bytes",
                "Content-Type": "application/octet-stream",
            }
            if stored.lfs:
                headers["X-Linked-Etag"] = f'"{stored.sha256}"'
                headers["X-Linked-Size"] = str(len(stored.data))
            raise _Reply(200, stored.data, headers)

    return Handler
