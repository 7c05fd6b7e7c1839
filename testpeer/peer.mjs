#!/usr/bin/env node
// coopfed test peer: a small ActivityPub server built on Fedify 1.5.9, for
// coopfed's Go interoperability tests.  Loopback only.  See README.md.
//
//   node peer.mjs --port PORT [--host 127.0.0.1] [--user NAME ...]
//                 [--log-level warning] [--rsa-only] [--time-window SECONDS]
//
// On start it prints one line of JSON to stdout:
//   {"ready":true,"origin":"http://127.0.0.1:PORT",...}
// and nothing else is ever written to stdout (logs go to stderr).

import { Buffer } from "node:buffer";
import { AsyncLocalStorage } from "node:async_hooks";
import { webcrypto as crypto, randomUUID } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import { parseArgs, inspect } from "node:util";

import { Temporal } from "@js-temporal/polyfill";
import { configure, defaultTextFormatter, withFilter } from "@logtape/logtape";
import {
  Accept,
  Activity,
  Announce,
  Create,
  Delete,
  Endpoints,
  Flag,
  Follow,
  InProcessMessageQueue,
  MemoryKvStore,
  Mention,
  Note,
  Object as APObject,
  Person,
  PUBLIC_COLLECTION,
  Reject,
  Undo,
  Update,
  createFederation,
  doesActorOwnKey,
  generateCryptoKeyPair,
  getDocumentLoader,
  isActor,
  parseSemVer,
  signRequest,
  verifyRequest,
} from "@fedify/fedify";

const VERSION = "0.1.0";
const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";
const MAX_BODY = 4 * 1024 * 1024;

// ---------------------------------------------------------------------------
// Command line

function usage(msg) {
  if (msg) process.stderr.write(`testpeer: ${msg}\n`);
  process.stderr.write(
    "usage: node peer.mjs --port PORT [--host 127.0.0.1] [--user NAME ...] " +
      "[--log-level debug|info|warning|error|fatal] [--rsa-only] " +
      "[--time-window SECONDS]\n",
  );
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string", default: "127.0.0.1" },
      user: { type: "string", multiple: true },
      "log-level": { type: "string", default: "warning" },
      "rsa-only": { type: "boolean", default: false },
      "time-window": { type: "string", default: "3600" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values;
} catch (e) {
  usage(e.message);
}
if (args.help) usage();
if (args.port == null) usage("--port is required (0 picks a free port)");
const PORT_ARG = Number(args.port);
if (!Number.isInteger(PORT_ARG) || PORT_ARG < 0 || PORT_ARG > 65535) {
  usage(`bad --port ${args.port}`);
}
const HOST = args.host;
if (!isLoopbackHost(HOST)) usage(`--host must be a loopback address, not ${HOST}`);
const USERS = args.user?.length ? [...new Set(args.user)] : ["peer"];
for (const u of USERS) {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(u)) usage(`bad user name ${u}`);
}
const LOG_LEVELS = ["debug", "info", "warning", "error", "fatal"];
if (!LOG_LEVELS.includes(args["log-level"])) usage(`bad --log-level ${args["log-level"]}`);
const TIME_WINDOW_S = Number(args["time-window"]);
if (!Number.isFinite(TIME_WINDOW_S) || TIME_WINDOW_S <= 0) {
  usage(`bad --time-window ${args["time-window"]}`);
}
const TIME_WINDOW = { seconds: TIME_WINDOW_S };

// ---------------------------------------------------------------------------
// Loopback guard: every fetch this process makes (Fedify's included: it uses
// the global fetch) must go to a loopback address.

function isLoopbackHost(hostname) {
  let h = String(hostname).toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (h.startsWith("::ffff:")) h = h.slice(7);
  if (net.isIPv4(h)) return h.split(".")[0] === "127";
  if (net.isIPv6(h)) return h === "::1" || h === "0:0:0:0:0:0:0:1";
  return false;
}

// The current control request or inbox POST, so logs and outbound requests
// can be attributed to it.
const als = new AsyncLocalStorage();

const sent = []; // every outbound HTTP request this peer made
let sentSeq = 0;
const originalFetch = globalThis.fetch;

globalThis.fetch = async function guardedFetch(input, init) {
  const request = new Request(input, init);
  const url = new URL(request.url);
  if (
    (url.protocol !== "http:" && url.protocol !== "https:") ||
    !isLoopbackHost(url.hostname)
  ) {
    const err = new TypeError(
      `testpeer: refusing to fetch non-loopback URL ${url.href}`,
    );
    recordSent({ method: request.method, url: url.href, error: err.message });
    throw err;
  }
  let requestBody = null;
  if (request.method !== "GET" && request.method !== "HEAD") {
    requestBody = await request.clone().text();
  }
  let response;
  try {
    response = await originalFetch(request);
  } catch (e) {
    recordSent({
      method: request.method,
      url: url.href,
      request_headers: Object.fromEntries(request.headers),
      request_body: requestBody,
      error: String(e?.cause ?? e),
    });
    throw e;
  }
  let responseBody = null;
  if (request.method !== "GET" || !response.ok) {
    try {
      responseBody = truncate(await response.clone().text(), 4000);
    } catch { /* ignore */ }
  }
  recordSent({
    method: request.method,
    url: url.href,
    request_headers: Object.fromEntries(request.headers),
    request_body: requestBody,
    status: response.status,
    response_body: responseBody,
    content_type: response.headers.get("content-type"),
  });
  return response;
};

function recordSent(entry) {
  const item = { seq: ++sentSeq, at: new Date().toISOString(), ...entry };
  sent.push(item);
  const store = als.getStore();
  if (store?.deliveries && !store.closed) store.deliveries.push(item);
  return item;
}

function truncate(s, n) {
  if (s == null) return s;
  s = String(s);
  return s.length > n ? s.slice(0, n) + `…(${s.length - n} more)` : s;
}

// ---------------------------------------------------------------------------
// Logging: stderr at --log-level, plus a capture of Fedify's debug messages
// into the current request's record (that is where the reasons are).

function renderMessage(record) {
  return record.message
    .map((part, i) => {
      if (i % 2 === 0) return part;
      if (typeof part === "string") return part;
      if (part instanceof Error) return describeError(part);
      return truncate(inspect(part, { depth: 3, breakLength: Infinity }), 600);
    })
    .join("");
}

function captureSink(record) {
  const store = als.getStore();
  if (store?.logs == null || store.closed || store.logs.length >= 100) return;
  store.logs.push(
    `${record.level} ${record.category.join(".")}: ${truncate(renderMessage(record), 2000)}`,
  );
}

function stderrSink(record) {
  process.stderr.write(defaultTextFormatter(record));
}

await configure({
  // Fedify calls withContext(); without this LogTape warns on every request.
  contextLocalStorage: new AsyncLocalStorage(),
  sinks: {
    capture: captureSink,
    stderr: withFilter(stderrSink, args["log-level"]),
  },
  loggers: [
    { category: "fedify", lowestLevel: "debug", sinks: ["capture", "stderr"] },
    { category: "testpeer", lowestLevel: "debug", sinks: ["stderr"] },
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
  ],
});

function log(msg) {
  if (LOG_LEVELS.indexOf(args["log-level"]) <= 1) {
    process.stderr.write(`testpeer: ${msg}\n`);
  }
}

// ---------------------------------------------------------------------------
// Users and keys

const users = new Map();
for (const name of USERS) {
  // RSA-2048 (Fedify's generateCryptoKeyPair() makes 4096-bit RSA keys; the
  // brief and Mastodon use 2048), same algorithm parameters as Fedify's.
  const rsa = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
  const keys = [rsa];
  if (!args["rsa-only"]) keys.push(await generateCryptoKeyPair("Ed25519"));
  users.set(name, {
    name,
    keys,
    followers: new Map(), // actor id -> { id, inbox, sharedInbox, followId }
    following: new Map(), // actor id -> { target, followId, state, inbox }
    notes: new Map(), // uuid -> Note
    creates: new Map(), // uuid -> Create
    follows: new Map(), // uuid -> Follow
    outbox: [], // public Create activities, newest last
  });
}

// ---------------------------------------------------------------------------
// Records of inbox POSTs

let received = [];
let recSeq = 0;
const waiters = new Set();

function notifyWaiters() {
  for (const w of [...waiters]) w();
}

// ---------------------------------------------------------------------------
// HTTP server first (so --port 0 can pick a port), then the federation.

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    process.stderr.write(`testpeer: unhandled error: ${e?.stack ?? e}\n`);
    if (!res.headersSent) sendJson(res, 500, { ok: false, error: String(e) });
    else res.end();
  });
});
server.keepAliveTimeout = 1000;

await new Promise((resolve, reject) => {
  server.once("error", reject);
  server.listen(PORT_ARG, HOST, () => {
    server.off("error", reject);
    resolve();
  });
});
const PORT = server.address().port;
const HOST_IN_URL = net.isIPv6(HOST) ? `[${HOST}]` : HOST;
const ORIGIN = `http://${HOST_IN_URL}:${PORT}`;
const AUTHORITY = `${HOST_IN_URL}:${PORT}`;

// No caching of remote documents: a test may change or restart coopfed and
// the peer must see the current documents.  Fedify's default would cache
// every remote document for 5 minutes in the KV store.
const loaderFactory = (opts) =>
  getDocumentLoader({ allowPrivateAddress: true, userAgent: opts?.userAgent });
const documentLoader = loaderFactory();
const contextLoader = documentLoader;
const loaderOptions = { documentLoader, contextLoader };

const federation = createFederation({
  kv: new MemoryKvStore(),
  // Inbox: an in-process queue, so the inbox answers 202 before the listeners
  // run, as real servers do.  Outbox: no queue, so every send happens at once
  // and the control call can report what the receiver answered.  (In 1.5.9
  // ctx.sendActivity's `immediate: true` does NOT bypass an outbox queue: it
  // is not passed on.)
  queue: { inbox: new InProcessMessageQueue() },
  manuallyStartQueue: true,
  origin: ORIGIN,
  allowPrivateAddress: true,
  documentLoaderFactory: loaderFactory,
  contextLoaderFactory: loaderFactory,
  signatureTimeWindow: TIME_WINDOW,
  userAgent: { software: `coopfed-testpeer/${VERSION}` },
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    const user = users.get(identifier);
    if (user == null) return null;
    const keyPairs = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: `Fedify test peer ${identifier}`,
      summary: "Loopback-only Fedify peer for coopfed interoperability tests.",
      url: new URL(`/@${identifier}`, ctx.origin),
      inbox: ctx.getInboxUri(identifier),
      outbox: ctx.getOutboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      followers: ctx.getFollowersUri(identifier),
      following: ctx.getFollowingUri(identifier),
      manuallyApprovesFollowers: false,
      discoverable: true,
      publicKey: keyPairs[0].cryptographicKey,
      assertionMethods: keyPairs.map((k) => k.multikey),
    });
  })
  .setKeyPairsDispatcher((_ctx, identifier) => users.get(identifier)?.keys ?? []);

federation.setFollowersDispatcher(
  "/users/{identifier}/followers",
  (_ctx, identifier) => {
    const user = users.get(identifier);
    if (user == null) return null;
    return {
      items: [...user.followers.values()].map((f) => ({
        id: new URL(f.id),
        inboxId: f.inbox ? new URL(f.inbox) : null,
        endpoints: f.sharedInbox ? { sharedInbox: new URL(f.sharedInbox) } : null,
      })),
    };
  },
);

federation.setFollowingDispatcher(
  "/users/{identifier}/following",
  (_ctx, identifier) => {
    const user = users.get(identifier);
    if (user == null) return null;
    return {
      items: [...user.following.values()]
        .filter((f) => f.state === "accepted")
        .map((f) => new URL(f.target)),
    };
  },
);

federation.setOutboxDispatcher("/users/{identifier}/outbox", (_ctx, identifier) => {
  const user = users.get(identifier);
  if (user == null) return null;
  return { items: [...user.outbox].reverse() };
});

federation.setObjectDispatcher(Note, "/users/{identifier}/notes/{id}", (_ctx, v) =>
  users.get(v.identifier)?.notes.get(v.id) ?? null);
federation.setObjectDispatcher(Create, "/users/{identifier}/notes/{id}/activity", (_ctx, v) =>
  users.get(v.identifier)?.creates.get(v.id) ?? null);
federation.setObjectDispatcher(Follow, "/users/{identifier}/follows/{id}", (_ctx, v) =>
  users.get(v.identifier)?.follows.get(v.id) ?? null);

federation.setNodeInfoDispatcher("/nodeinfo/2.1", () => ({
  software: {
    name: "coopfed-testpeer",
    version: parseSemVer(VERSION),
    homepage: new URL("https://fedify.dev/"),
  },
  protocols: ["activitypub"],
  openRegistrations: false,
  usage: {
    users: { total: users.size, activeHalfyear: users.size, activeMonth: users.size },
    localPosts: [...users.values()].reduce((n, u) => n + u.notes.size, 0),
    localComments: 0,
  },
  metadata: { fedifyVersion: "1.5.9" },
}));

// Inbox listeners run after the inbox answered 202 (in-process queue).  They
// mark the record as handled (Fedify parsed it and dispatched it) and do the
// side effects.
federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Follow, async (ctx, follow) => {
    const rec = markHandled(ctx, follow);
    const parsed = follow.objectId ? ctx.parseUri(follow.objectId) : null;
    if (parsed?.type !== "actor" || !users.has(parsed.identifier)) {
      note(rec, `Follow object ${follow.objectId?.href} is not a local actor`);
      return;
    }
    const user = users.get(parsed.identifier);
    let follower;
    try {
      follower = await follow.getActor(ctx);
    } catch (e) {
      note(rec, `cannot load follower ${follow.actorId?.href}: ${e}`);
      return;
    }
    if (follower == null || follower.id == null || follower.inboxId == null) {
      note(rec, `follower ${follow.actorId?.href} could not be loaded or has no inbox`);
      return;
    }
    user.followers.set(follower.id.href, {
      id: follower.id.href,
      inbox: follower.inboxId.href,
      sharedInbox: follower.endpoints?.sharedInbox?.href ?? null,
      followId: follow.id?.href ?? null,
    });
    const actorUri = ctx.getActorUri(user.name);
    const accept = new Accept({
      id: new URL(`${actorUri.href}#accepts/${randomUUID()}`),
      actor: actorUri,
      object: follow,
      to: follower.id,
    });
    const result = await deliver(ctx, user.name, [follower], accept);
    if (rec) rec.reply = { type: "Accept", ...result };
  })
  .on(Accept, async (ctx, accept) => {
    const rec = markHandled(ctx, accept);
    settleFollow(ctx, accept, "accepted", rec);
  })
  .on(Reject, async (ctx, reject) => {
    const rec = markHandled(ctx, reject);
    settleFollow(ctx, reject, "rejected", rec);
  })
  .on(Undo, async (ctx, undo) => {
    const rec = markHandled(ctx, undo);
    const raw = rec?.activity?.object;
    const objectId = undo.objectId?.href ?? null;
    const actorId = undo.actorId?.href ?? null;
    const isFollow = (typeof raw === "object" && raw?.type === "Follow") ||
      [...users.values()].some((u) =>
        [...u.followers.values()].some((f) => f.followId && f.followId === objectId)
      );
    if (!isFollow) return;
    for (const u of users.values()) {
      for (const [id, f] of u.followers) {
        if ((objectId && f.followId === objectId) || id === actorId) u.followers.delete(id);
      }
    }
  })
  .on(Create, (ctx, a) => void markHandled(ctx, a))
  .on(Update, (ctx, a) => void markHandled(ctx, a))
  .on(Delete, (ctx, a) => void markHandled(ctx, a))
  .on(Announce, (ctx, a) => void markHandled(ctx, a))
  .on(Activity, (ctx, a) => void markHandled(ctx, a))
  .onError((_ctx, error) => {
    log(`inbox listener error: ${error?.stack ?? error}`);
  });

function settleFollow(ctx, activity, state, rec) {
  const objectId = activity.objectId?.href ?? null;
  const actorId = activity.actorId?.href ?? null;
  const targets = ctx.recipient ? [users.get(ctx.recipient)] : [...users.values()];
  let matched = false;
  for (const u of targets) {
    if (u == null) continue;
    for (const f of u.following.values()) {
      if (objectId != null && f.followId === objectId) {
        f.state = state;
        f.settled_by = activity.id?.href ?? null;
        matched = true;
      }
    }
  }
  if (!matched && actorId != null) {
    // Some servers answer with a different object id; fall back to the actor.
    for (const u of targets) {
      const f = u?.following.get(actorId);
      if (f && f.state === "pending") {
        f.state = state;
        f.settled_by = activity.id?.href ?? null;
        matched = true;
      }
    }
  }
  if (!matched) note(rec, `no pending Follow matches ${objectId}`);
}

function note(rec, msg) {
  log(msg);
  if (rec) (rec.notes ??= []).push(msg);
}

function markHandled(ctx, activity) {
  const id = activity.id?.href ?? null;
  const rec = received.find((r) =>
    !r.handled && r.id === id &&
    (ctx.recipient == null ? r.inbox === "shared" : r.recipient === ctx.recipient)
  ) ?? received.find((r) => !r.handled && r.id === id);
  if (rec) {
    rec.handled = true;
    rec.handled_at = new Date().toISOString();
    rec.handled_as = activity.constructor.name;
    notifyWaiters();
  }
  return rec ?? null;
}

// Sends an activity with Fedify's ctx.sendActivity at once (no queue, no
// retries), and returns what every receiving inbox answered.
async function deliver(ctx, identifier, recipients, activity, options = {}) {
  const store = { deliveries: [], logs: [] };
  let error = null;
  await als.run(store, async () => {
    try {
      await ctx.sendActivity({ identifier }, recipients, activity, {
        immediate: true,
        preferSharedInbox: options.preferSharedInbox ?? false,
      });
    } catch (e) {
      error = String(e?.message ?? e);
    }
  });
  store.closed = true;
  const deliveries = store.deliveries
    .filter((d) => d.method === "POST")
    .map((d) => ({ inbox: d.url, status: d.status ?? null, body: d.response_body ?? null, error: d.error }));
  return { id: activity.id?.href ?? null, deliveries, error, log: store.logs.filter((l) => !l.startsWith("debug")) };
}

// ---------------------------------------------------------------------------
// Request handling

async function handle(req, res) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) {
      sendJson(res, 413, { ok: false, error: "body too large" });
      return;
    }
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  const hostHeader = req.headers.host ?? AUTHORITY;
  let url;
  try {
    url = new URL(req.url, `http://${hostHeader}`);
  } catch {
    url = new URL(req.url, ORIGIN);
  }

  if (url.pathname === "/_control" || url.pathname.startsWith("/_control/")) {
    if (!isLoopbackHost(req.socket.remoteAddress ?? "")) {
      sendJson(res, 403, { ok: false, error: "control API is loopback-only" });
      return;
    }
    await control(req, res, url, body);
    return;
  }

  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  const request = new Request(url, {
    method: req.method,
    headers,
    body: hasBody ? body : undefined,
  });

  let response;
  const inboxMatch = /^\/users\/([^/]+)\/inbox\/?$/.exec(url.pathname);
  if (req.method === "POST" && (inboxMatch || url.pathname === "/inbox" || url.pathname === "/inbox/")) {
    response = await inboxPost(request, req, body, inboxMatch ? decodeURIComponent(inboxMatch[1]) : null);
  } else {
    response = await federation.fetch(request, {
      contextData: undefined,
      onNotFound: () => new Response("Not found.", { status: 404, headers: { "Content-Type": "text/plain" } }),
      onNotAcceptable: () => new Response("Not acceptable.", { status: 406, headers: { "Content-Type": "text/plain" } }),
    });
  }
  await writeResponse(res, response);
}

async function writeResponse(res, response) {
  const headers = {};
  response.headers.forEach((v, k) => {
    if (headers[k] != null) headers[k] = [].concat(headers[k], v);
    else headers[k] = v;
  });
  const buf = Buffer.from(await response.arrayBuffer());
  delete headers["content-length"];
  delete headers["transfer-encoding"];
  headers["content-length"] = String(buf.length);
  res.writeHead(response.status, headers);
  res.end(buf);
}

function idOf(v) {
  if (v == null) return null;
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return idOf(v[0]);
  if (typeof v === "object") return typeof v.id === "string" ? v.id : (typeof v["@id"] === "string" ? v["@id"] : null);
  return null;
}

function idsOf(v) {
  if (v == null) return [];
  if (Array.isArray(v)) return v.flatMap(idsOf);
  const id = idOf(v);
  return id == null ? [] : [id];
}

function addressing(json) {
  const out = new Set();
  const add = (o) => {
    if (o == null || typeof o !== "object") return;
    for (const k of ["to", "cc", "bto", "bcc", "audience"]) for (const id of idsOf(o[k])) out.add(id);
  };
  add(json);
  if (json && typeof json === "object") {
    for (const o of [].concat(json.object ?? [])) add(o);
  }
  return out;
}

// Local users a shared-inbox delivery is for: those addressed directly, and
// those following the actor.
function sharedRecipients(json) {
  const addr = addressing(json);
  for (const id of idsOf(json?.object)) addr.add(id); // Follow, Undo{Follow}…
  const actor = idOf(json?.actor);
  const out = [];
  for (const u of users.values()) {
    const uri = `${ORIGIN}/users/${u.name}`;
    if (addr.has(uri)) out.push(u.name);
    else if (actor && u.following.get(actor)?.state === "accepted") out.push(u.name);
  }
  return out;
}

const SIG_LOG = /^debug fedify\.sig|^(info|warning|error|fatal) fedify\./;

// Every inbox POST: verify the HTTP signature ourselves (as Mastodon does,
// whatever LD signature or proof the body carries), refuse with 401 when it
// fails, otherwise hand it to Fedify.  Recorded either way.
async function inboxPost(request, req, body, recipientName) {
  const text = body.toString("utf8");
  let json = null;
  let jsonError = null;
  try {
    json = JSON.parse(text);
  } catch (e) {
    jsonError = String(e.message);
  }
  const headerObj = {};
  for (const [k, v] of Object.entries(req.headers)) headerObj[k] = v;
  const sigHeader = request.headers.get("signature") ?? "";
  const rec = {
    seq: ++recSeq,
    received_at: new Date().toISOString(),
    path: new URL(request.url).pathname,
    inbox: recipientName == null ? "shared" : "personal",
    recipient: recipientName,
    recipients: recipientName == null
      ? (json ? sharedRecipients(json) : [])
      : [recipientName],
    verified: false,
    reason: null,
    key_id: /keyId="([^"]*)"/.exec(sigHeader)?.[1] ?? null,
    key_owner: null,
    status: null,
    response: null,
    type: json?.type ?? null,
    object_type: Array.isArray(json?.object)
      ? json.object.map((o) => (typeof o === "object" ? o?.type : null))
      : (typeof json?.object === "object" ? json.object?.type ?? null : null),
    id: typeof json?.id === "string" ? json.id : null,
    actor: idOf(json?.actor),
    activity: json ?? undefined,
    raw_body: json == null ? text : undefined,
    headers: headerObj,
    handled: false,
    handled_at: null,
    fedify_log: [],
  };
  received.push(rec);

  const store = { logs: [], deliveries: [] };
  let response;
  await als.run(store, async () => {
    const v = await verifyInbound(request, json, jsonError);
    rec.verified = v.verified;
    rec.reason = v.reason;
    rec.key_owner = v.keyOwner ?? null;
    if (!v.verified) {
      response = new Response(`Unauthorized: ${v.reason}\n`, {
        status: 401,
        headers: { "Content-Type": "text/plain; charset=utf-8" },
      });
    } else {
      response = await federation.fetch(request, {
        contextData: undefined,
        onNotFound: () => new Response("Not found.", { status: 404, headers: { "Content-Type": "text/plain" } }),
        onNotAcceptable: () => new Response("Not acceptable.", { status: 406, headers: { "Content-Type": "text/plain" } }),
      });
    }
  });
  store.closed = true;
  rec.status = response.status;
  rec.response = truncate(await response.clone().text(), 2000);
  rec.fedify_log = store.logs.filter((l) => SIG_LOG.test(l));
  if (rec.verified && rec.status >= 400 && rec.reason == null) {
    const errs = store.logs.filter((l) =>
      /^(warning|error|fatal) /.test(l) && !l.includes(" fedify.federation.http: ")
    );
    rec.reason = `Fedify answered ${rec.status}: ${rec.response.trim()}` +
      (errs.length ? ` — ${errs[errs.length - 1]}` : "");
  }
  notifyWaiters();
  return response;
}

async function verifyInbound(request, json, jsonError) {
  if (!request.headers.has("signature")) {
    return { verified: false, reason: "no Signature header" };
  }
  const store = als.getStore();
  const before = store.logs.length;
  let key = null;
  try {
    key = await verifyRequest(request.clone(), {
      documentLoader,
      contextLoader,
      timeWindow: TIME_WINDOW,
    });
  } catch (e) {
    return { verified: false, reason: `HTTP signature verification threw: ${e}` };
  }
  if (key == null) {
    const msgs = store.logs.slice(before)
      .filter((l) => /Failed|failed|Error|error|invalid|mismatch|missing/.test(l))
      .map((l) => l.replace(/^\S+ \S+: /, ""));
    return {
      verified: false,
      reason: "HTTP signature verification failed" +
        (msgs.length ? `: ${msgs.join(" | ")}` : ""),
    };
  }
  const keyOwner = key.ownerId?.href ?? null;
  if (json == null) {
    // Let Fedify answer 400 for a body that is not JSON.
    return { verified: true, reason: `body is not JSON (${jsonError})`, keyOwner };
  }
  const actor = idOf(json.actor);
  let owns;
  try {
    const activity = await Activity.fromJsonLd(json, loaderOptions);
    owns = await doesActorOwnKey(activity, key, loaderOptions);
  } catch (e) {
    // Fedify cannot parse it (it will answer 400); judge on the raw JSON.
    owns = keyOwner != null && keyOwner === actor;
  }
  if (!owns) {
    return {
      verified: false,
      reason: `key ${key.id?.href} (owner ${keyOwner}) does not belong to the activity's actor ${actor}`,
      keyOwner,
    };
  }
  return { verified: true, reason: null, keyOwner };
}

// ---------------------------------------------------------------------------
// Control API

function sendJson(res, status, obj) {
  const buf = Buffer.from(JSON.stringify(obj, null, 1) + "\n");
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": String(buf.length),
    "Cache-Control": "no-store",
  });
  res.end(buf);
}

class ControlError extends Error {
  constructor(status, message, extra = {}) {
    super(message);
    this.status = status;
    this.extra = extra;
  }
}

function ctxNow() {
  return federation.createContext(new URL(ORIGIN), undefined);
}

function needUser(name) {
  const n = name ?? USERS[0];
  const user = users.get(n);
  if (user == null) throw new ControlError(400, `unknown local user ${JSON.stringify(n)}`);
  return user;
}

function needString(v, what) {
  if (typeof v !== "string" || v === "") throw new ControlError(400, `${what} is required`);
  return v;
}

async function control(req, res, url, body) {
  const route = `${req.method} ${url.pathname.replace(/\/+$/, "")}`;
  let input = {};
  if (req.method === "POST" && body.length > 0) {
    try {
      input = JSON.parse(body.toString("utf8"));
    } catch (e) {
      sendJson(res, 400, { ok: false, error: `request body is not JSON: ${e.message}` });
      return;
    }
  }
  const store = { logs: [], deliveries: [] };
  try {
    const out = await als.run(store, async () => {
      switch (route) {
        case "GET /_control/received": return await cReceived(url.searchParams);
        case "GET /_control/sent": return cSent(url.searchParams);
        case "POST /_control/reset": return cReset(input);
        case "GET /_control/actor": return await cActor(url.searchParams);
        case "POST /_control/lookup": return await cLookup(input);
        case "POST /_control/follow": return await cFollow(input);
        case "POST /_control/unfollow": return await cUnfollow(input);
        case "POST /_control/send": return await cSend(input);
        case "POST /_control/vote": return await cVote(input);
        case "POST /_control/flag": return await cFlag(input);
        case "GET /_control/health": return { origin: ORIGIN, users: USERS };
        default: throw new ControlError(404, `no control route ${route}`);
      }
    });
    store.closed = true;
    sendJson(res, 200, { ok: true, ...out });
  } catch (e) {
    store.closed = true;
    if (e instanceof ControlError) {
      sendJson(res, e.status, { ok: false, error: e.message, ...e.extra });
    } else {
      sendJson(res, 500, {
        ok: false,
        error: String(e?.message ?? e),
        log: store.logs.filter((l) => !l.startsWith("debug")),
      });
    }
  }
}

function matchesFilter(rec, p) {
  // A delivery still being verified or handled has no answer yet: it is
  // listed once it has one (pending=1 lists it at once), so that a waiter
  // never reads verified=false from a record that is only half done.
  if (rec.status == null && p.get("pending") !== "1") return false;
  const user = p.get("user");
  if (user && !rec.recipients.includes(user)) return false;
  const type = p.get("type");
  if (type && !type.split(",").includes(rec.type)) return false;
  const ot = p.get("object_type");
  if (ot && ![].concat(rec.object_type).some((t) => ot.split(",").includes(t))) return false;
  const verified = p.get("verified");
  if (verified != null && String(rec.verified) !== verified) return false;
  const handled = p.get("handled");
  if (handled != null && String(rec.handled) !== handled) return false;
  const actor = p.get("actor");
  if (actor && rec.actor !== actor) return false;
  const id = p.get("id");
  if (id && rec.id !== id) return false;
  const since = p.get("since");
  if (since != null && !(rec.seq > Number(since))) return false;
  return true;
}

async function cReceived(p) {
  const user = p.get("user");
  if (user && !users.has(user)) throw new ControlError(400, `unknown local user ${user}`);
  const pick = () => received.filter((r) => matchesFilter(r, p));
  const waitMs = Math.min(Number(p.get("wait") ?? 0) || 0, 60000);
  const min = Number(p.get("min") ?? 1) || 1;
  let items = pick();
  if (waitMs > 0 && items.length < min) {
    await new Promise((resolve) => {
      const timer = setTimeout(done, waitMs);
      function done() {
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      }
      function check() {
        if (pick().length >= min) done();
      }
      waiters.add(check);
    });
    items = pick();
  }
  return { count: items.length, items };
}

function cSent(p) {
  const method = p.get("method");
  const urlPrefix = p.get("url");
  const since = p.get("since");
  const items = sent.filter((s) =>
    (!method || s.method === method) &&
    (!urlPrefix || s.url.startsWith(urlPrefix)) &&
    (since == null || s.seq > Number(since))
  );
  return { count: items.length, items };
}

function cReset(input) {
  const n = received.length;
  received = [];
  sent.length = 0;
  if (input?.all) {
    for (const u of users.values()) {
      u.followers.clear();
      u.following.clear();
    }
  }
  return { cleared: n };
}

async function cActor(p) {
  const user = needUser(p.get("user"));
  const ctx = ctxNow();
  const pairs = await ctx.getActorKeyPairs(user.name);
  const spki = await crypto.subtle.exportKey("spki", pairs[0].publicKey);
  const b64 = Buffer.from(spki).toString("base64").replace(/.{1,64}/g, "$&\n");
  return {
    user: user.name,
    handle: `@${user.name}@${AUTHORITY}`,
    id: ctx.getActorUri(user.name).href,
    inbox: ctx.getInboxUri(user.name).href,
    sharedInbox: ctx.getInboxUri().href,
    followers: ctx.getFollowersUri(user.name).href,
    following: ctx.getFollowingUri(user.name).href,
    outbox: ctx.getOutboxUri(user.name).href,
    publicKeyId: pairs[0].keyId.href,
    publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${b64}-----END PUBLIC KEY-----\n`,
    keyIds: pairs.map((k) => k.keyId.href),
    followerList: [...user.followers.values()],
    followingList: [...user.following.values()],
  };
}

// Loads a document with Fedify's document loader and parses it with Fedify's
// vocabulary, keeping Fedify's error message when that fails.
async function loadObject(url, loader = documentLoader) {
  let remote;
  try {
    remote = await loader(url);
  } catch (e) {
    throw new ControlError(422, `cannot fetch ${url}: ${e?.message ?? e}`, {
      stage: "fetch",
      url,
    });
  }
  let object;
  try {
    object = await APObject.fromJsonLd(remote.document, { documentLoader: loader, contextLoader });
  } catch (e) {
    throw new ControlError(422, `Fedify cannot parse ${url}: ${describeError(e)}`, {
      stage: "parse",
      url,
      document: remote.document,
    });
  }
  return { object, document: remote.document, documentUrl: remote.documentUrl };
}

// "jsonld.InvalidUrl: ... URL: "https://coopfed.org/ns". (code: loading remote
// context failed; cause: ...)": jsonld's errors keep the useful part in details.
function describeError(e) {
  if (!(e instanceof Error)) return String(e);
  let s = `${e.name}: ${e.message}`;
  const d = e.details;
  if (d && typeof d === "object") {
    const parts = [];
    if (d.code) parts.push(`code: ${d.code}`);
    if (d.url) parts.push(`url: ${d.url}`);
    if (d.cause) parts.push(`cause: ${d.cause instanceof Error ? d.cause.message : truncate(String(d.cause), 300)}`);
    if (parts.length) s += ` (${parts.join("; ")})`;
  }
  return s;
}

async function loadActor(url, loader) {
  const r = await loadObject(url, loader);
  if (!isActor(r.object)) {
    throw new ControlError(422, `${url} is a ${r.object.constructor.name}, not an actor`, {
      stage: "type",
      url,
      document: r.document,
    });
  }
  if (r.object.id == null || r.object.inboxId == null) {
    throw new ControlError(422, `actor ${url} has no id or no inbox`, { stage: "actor", url, document: r.document });
  }
  return r;
}

async function webfinger(handle) {
  const m = /^@?([^@\s]+)@([^@\s]+)$/.exec(handle.replace(/^acct:/, ""));
  if (!m) throw new ControlError(400, `bad handle ${handle}`);
  const [, name, host] = m;
  const wfUrl = `http://${host}/.well-known/webfinger?resource=acct:${name}@${host}`;
  let res;
  try {
    res = await fetch(wfUrl, { headers: { Accept: "application/jrd+json" } });
  } catch (e) {
    throw new ControlError(422, `WebFinger GET ${wfUrl} failed: ${e?.cause ?? e}`, { stage: "webfinger", url: wfUrl });
  }
  const text = await res.text();
  if (!res.ok) {
    throw new ControlError(422, `WebFinger GET ${wfUrl} answered ${res.status}`, {
      stage: "webfinger",
      url: wfUrl,
      status: res.status,
      body: truncate(text, 2000),
    });
  }
  let jrd;
  try {
    jrd = JSON.parse(text);
  } catch (e) {
    throw new ControlError(422, `WebFinger answer is not JSON: ${e.message}`, { stage: "webfinger", url: wfUrl, body: truncate(text, 2000) });
  }
  const self = (jrd.links ?? []).find((l) =>
    l.rel === "self" &&
    (l.type === "application/activity+json" ||
      /^application\/ld\+json;\s*profile="https:\/\/www\.w3\.org\/ns\/activitystreams"$/.test(l.type ?? ""))
  );
  if (self?.href == null) {
    throw new ControlError(422, "WebFinger answer has no rel=self link of type application/activity+json", {
      stage: "webfinger",
      url: wfUrl,
      jrd,
    });
  }
  return { jrd, href: self.href, url: wfUrl, contentType: res.headers.get("content-type") };
}

async function cLookup(input) {
  let url = input.url;
  let wf = null;
  if (input.handle) {
    wf = await webfinger(String(input.handle));
    url = wf.href;
  }
  needString(url, "handle or url");
  let loader = documentLoader;
  if (input.signed) {
    const user = needUser(input.user);
    loader = await ctxNow().getDocumentLoader({ identifier: user.name });
  }
  const { object, document } = await loadObject(url, loader);
  const raw = await object.toJsonLd({ format: "compact", contextLoader });
  const out = {
    id: object.id?.href ?? null,
    type: object.constructor.name,
    url,
    raw,
    document,
  };
  if (wf) out.webfinger = wf.jrd;
  if (isActor(object)) {
    const pu = object.preferredUsername;
    out.preferredUsername = pu == null ? null : String(pu);
    out.name = object.name == null ? null : String(object.name);
    out.inbox = object.inboxId?.href ?? null;
    out.sharedInbox = object.endpoints?.sharedInbox?.href ?? null;
    out.outbox = object.outboxId?.href ?? null;
    out.followers = object.followersId?.href ?? null;
    out.following = object.followingId?.href ?? null;
    out.publicKeyId = object.publicKeyId?.href ?? null;
    out.assertionMethodIds = object.assertionMethodIds.map((u) => u.href);
    try {
      const key = await object.getPublicKey(loaderOptions);
      out.publicKeyOwner = key?.ownerId?.href ?? null;
      out.publicKeyAlgorithm = key?.publicKey?.algorithm?.name ?? null;
    } catch (e) {
      out.publicKeyError = String(e?.message ?? e);
    }
  } else {
    out.name = object.name == null ? null : String(object.name);
    out.attributedTo = object.attributionIds?.map((u) => u.href) ?? [];
  }
  return out;
}

async function cFollow(input) {
  const user = needUser(input.user);
  const target = needString(input.target, "target");
  const ctx = ctxNow();
  const { object: actor } = await loadActor(target);
  const uuid = randomUUID();
  const actorUri = ctx.getActorUri(user.name);
  const follow = new Follow({
    id: ctx.getObjectUri(Follow, { identifier: user.name, id: uuid }),
    actor: actorUri,
    object: actor.id,
    to: actor.id,
  });
  user.follows.set(uuid, follow);
  user.following.set(actor.id.href, {
    target: actor.id.href,
    inbox: actor.inboxId.href,
    followId: follow.id.href,
    state: "pending",
  });
  const result = await deliver(ctx, user.name, [actor], follow);
  return { ...result, target: actor.id.href, ...first(result) };
}

async function cUnfollow(input) {
  const user = needUser(input.user);
  const target = needString(input.target, "target");
  const ctx = ctxNow();
  const { object: actor } = await loadActor(target);
  const f = user.following.get(actor.id.href);
  const actorUri = ctx.getActorUri(user.name);
  let follow = null;
  if (f) {
    const uuid = f.followId.split("/").pop();
    follow = user.follows.get(uuid) ?? null;
  }
  follow ??= new Follow({ id: null, actor: actorUri, object: actor.id });
  const undo = new Undo({
    id: new URL(`${actorUri.href}#undo/${randomUUID()}`),
    actor: actorUri,
    object: follow,
    to: actor.id,
  });
  const result = await deliver(ctx, user.name, [actor], undo);
  if (f) f.state = "undone";
  return { ...result, target: actor.id.href, followId: f?.followId ?? null, ...first(result) };
}

function first(result) {
  const d = result.deliveries[0];
  return { status: d?.status ?? null, body: d?.body ?? null };
}

// Changes one byte of the body: toggles the case of an ASCII letter inside a
// JSON string near the middle, so the body stays valid JSON but no longer
// matches its Digest and signature.
function tamperBytes(bytes) {
  const b = Buffer.from(bytes);
  const candidates = [];
  let inStr = false;
  let esc = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (inStr) {
      if (esc) esc = false;
      else if (c === 0x5c) esc = true;
      else if (c === 0x22) inStr = false;
      else if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) candidates.push(i);
    } else if (c === 0x22) inStr = true;
  }
  const at = candidates.length ? candidates[Math.floor(candidates.length / 2)] : b.length - 1;
  const from = String.fromCharCode(b[at]);
  b[at] = candidates.length ? b[at] ^ 0x20 : b[at] ^ 0x01;
  return { bytes: b, tamper: { offset: at, from, to: String.fromCharCode(b[at]) } };
}

// Signs (draft-cavage rsa-sha256, Fedify's signRequest) and POSTs exactly the
// given bytes.
async function rawPost(inbox, bytes, { user, signAs, keyId, sign = true, tamper = false, headers = {} }) {
  const signer = signAs ? needUser(signAs) : user;
  const ctx = ctxNow();
  const pairs = await ctx.getActorKeyPairs(signer.name);
  const rsa = pairs.find((p) => p.privateKey.algorithm.name === "RSASSA-PKCS1-v1_5");
  const h = new Headers({ "Content-Type": "application/activity+json" });
  for (const [k, v] of Object.entries(headers ?? {})) h.set(k, String(v));
  let request = new Request(inbox, { method: "POST", headers: h, body: bytes });
  if (sign) {
    request = await signRequest(request, rsa.privateKey, keyId ? new URL(keyId) : rsa.keyId);
  }
  let out = Buffer.from(await request.arrayBuffer());
  let tamperInfo = null;
  if (tamper) {
    const t = tamperBytes(out);
    out = t.bytes;
    tamperInfo = t.tamper;
  }
  const sentHeaders = Object.fromEntries(request.headers);
  let res;
  try {
    res = await fetch(inbox, { method: "POST", headers: request.headers, body: out });
  } catch (e) {
    return { inbox, status: null, body: null, error: String(e?.cause ?? e), headers: sentHeaders, tamper: tamperInfo };
  }
  return {
    inbox,
    status: res.status,
    body: truncate(await res.text(), 4000),
    headers: sentHeaders,
    tamper: tamperInfo,
  };
}

async function recipientsOf(to) {
  const list = [].concat(to ?? []);
  const actors = [];
  for (const t of list) actors.push((await loadActor(needString(t, "to[]"))).object);
  return actors;
}

async function cSend(input) {
  const user = needUser(input.user);
  const ctx = ctxNow();
  const actorUri = ctx.getActorUri(user.name);
  const postOpts = {
    user,
    signAs: input.signAs,
    keyId: input.keyId,
    sign: input.sign !== false,
    tamper: input.tamper === true,
    headers: input.headers,
  };

  if (input.activity != null) {
    // Raw mode: these bytes, signed, to the inbox(es) given.
    let bytes;
    let id = null;
    if (typeof input.activity === "string") {
      bytes = input.activity;
      try {
        id = JSON.parse(bytes).id ?? null;
      } catch { /* not JSON: sent as is */ }
    } else {
      const a = { ...input.activity };
      a.actor ??= actorUri.href;
      a.id ??= `${actorUri.href}#raw/${randomUUID()}`;
      id = a.id;
      bytes = JSON.stringify(a);
    }
    let inboxes = [].concat(input.inbox ?? []);
    if (inboxes.length === 0) {
      inboxes = (await recipientsOf(input.to)).map((a) => a.inboxId.href);
    }
    if (inboxes.length === 0) throw new ControlError(400, "raw send needs inbox (or to)");
    const deliveries = [];
    for (const inbox of inboxes) deliveries.push(await rawPost(inbox, bytes, postOpts));
    return { id, deliveries, ...first({ deliveries }) };
  }

  // Note mode: Create{Note} built with Fedify's vocabulary.
  const n = input.note ?? {};
  const toFollowers = input.to === "followers";
  const recipients = toFollowers ? [] : await recipientsOf(input.to);
  const mentionUrl = n.mention ?? null;
  let mentioned = [];
  if (mentionUrl) {
    mentioned = recipients.filter((a) => a.id.href === mentionUrl);
    if (mentioned.length === 0) mentioned = [(await loadActor(mentionUrl)).object];
  } else if (n.direct) {
    mentioned = recipients;
  }
  const tags = mentioned.map((a) =>
    new Mention({ href: a.id, name: `@${a.preferredUsername ?? "?"}@${a.id.host}` })
  );
  const uuid = randomUUID();
  const noteId = ctx.getObjectUri(Note, { identifier: user.name, id: uuid });
  const published = Temporal.Now.instant();
  let tos;
  let ccs;
  if (n.direct) {
    tos = [...new Map([...recipients, ...mentioned].map((a) => [a.id.href, a.id])).values()];
    ccs = [];
  } else {
    tos = [PUBLIC_COLLECTION];
    ccs = [ctx.getFollowersUri(user.name), ...recipients.map((a) => a.id)];
  }
  const content = n.content ?? "Hello from the Fedify test peer.";
  const mentionHtml = mentioned
    .map((a) => `<span class="h-card"><a href="${a.id.href}" class="u-url mention">@${a.preferredUsername ?? "?"}</a></span> `)
    .join("");
  const noteObj = new Note({
    id: noteId,
    attribution: actorUri,
    content: n.html === false ? content : `<p>${mentionHtml}${escapeHtml(content)}</p>`,
    tos,
    ccs,
    tags,
    published,
    url: noteId,
    ...(n.inReplyTo ? { replyTarget: new URL(n.inReplyTo) } : {}),
    ...(n.name ? { name: n.name } : {}),
  });
  const create = new Create({
    id: ctx.getObjectUri(Create, { identifier: user.name, id: uuid }),
    actor: actorUri,
    object: noteObj,
    tos,
    ccs,
    published,
  });
  user.notes.set(uuid, noteObj);
  user.creates.set(uuid, create);
  if (!n.direct) user.outbox.push(create);

  if (
    postOpts.tamper || input.inbox != null || input.sign === false || input.signAs ||
    input.keyId || input.headers
  ) {
    // Serialize with Fedify, then sign and send the bytes ourselves.
    const json = await create.toJsonLd({ format: "compact", contextLoader });
    const bytes = JSON.stringify(json);
    const inboxes = input.inbox != null
      ? [].concat(input.inbox)
      : toFollowers
      ? [...new Set([...user.followers.values()].map((f) => f.inbox))]
      : recipients.map((a) => a.inboxId.href);
    const deliveries = [];
    for (const inbox of inboxes) deliveries.push(await rawPost(inbox, bytes, postOpts));
    return { id: create.id.href, object: noteId.href, deliveries, ...first({ deliveries }) };
  }
  if (recipients.length === 0 && !toFollowers) {
    return { id: create.id.href, object: noteId.href, deliveries: [], status: null, body: null };
  }
  const result = await deliver(ctx, user.name, toFollowers ? "followers" : recipients, create, {
    preferSharedInbox: input.sharedInbox === true,
  });
  return { ...result, object: noteId.href, ...first(result) };
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

let voteSeq = Date.now();

async function cVote(input) {
  const user = needUser(input.user);
  const questionUrl = needString(input.question, "question");
  const options = [].concat(input.options ?? []);
  if (options.length === 0) throw new ControlError(400, "options is required");
  const separate = input.separate !== false;
  const ctx = ctxNow();
  const actor = ctx.getActorUri(user.name).href;

  let question;
  try {
    question = (await documentLoader(questionUrl)).document;
  } catch (e) {
    throw new ControlError(422, `cannot fetch question ${questionUrl}: ${e?.message ?? e}`, { stage: "fetch" });
  }
  let parseError = null;
  try {
    await APObject.fromJsonLd(question, loaderOptions);
  } catch (e) {
    parseError = describeError(e);
  }
  const qid = typeof question?.id === "string" ? question.id : questionUrl;
  const author = input.attributedTo ?? idOf(question?.attributedTo);
  if (author == null) throw new ControlError(422, `question ${qid} has no attributedTo`, { question });
  let inbox = input.inbox ?? null;
  if (inbox == null) inbox = (await loadActor(author)).object.inboxId.href;

  const postOpts = { user, sign: true, tamper: input.tamper === true, headers: input.headers };
  const noteFor = (n, option) => ({
    id: `${actor}#votes/${n}`,
    type: "Note",
    name: option,
    attributedTo: actor,
    inReplyTo: qid,
    to: author,
  });
  const votes = [];
  if (separate) {
    for (const option of options) {
      const n = ++voteSeq;
      const activity = {
        "@context": AS_CONTEXT,
        id: `${actor}#votes/${n}/activity`,
        type: "Create",
        actor,
        to: author,
        object: noteFor(n, option),
      };
      const r = await rawPost(inbox, JSON.stringify(activity), postOpts);
      votes.push({ id: activity.id, options: [option], status: r.status, body: r.body, error: r.error });
    }
  } else {
    const n = ++voteSeq;
    const objects = options.map((o) => noteFor(++voteSeq, o));
    const activity = {
      "@context": AS_CONTEXT,
      id: `${actor}#votes/${n}/activity`,
      type: "Create",
      actor,
      to: author,
      object: objects,
    };
    const r = await rawPost(inbox, JSON.stringify(activity), postOpts);
    votes.push({ id: activity.id, options, status: r.status, body: r.body, error: r.error });
  }
  return {
    question: qid,
    attributedTo: author,
    inbox,
    questionParseError: parseError,
    votes,
    statuses: votes.map((v) => v.status),
  };
}

// A report, as Mastodon forwards one to the reported account's server
// (app/services/report_service.rb, forward_to_origin!; the body is
// ActivityPub::FlagSerializer's: actor, the account's URI then its
// statuses' as object, the comment as content): a Flag built with Fedify's
// vocabulary, with an id on this origin, delivered by Fedify (signed) to
// the inbox of the reported account, `account` or the first object
// (its shared inbox with "sharedInbox": true).
async function cFlag(input) {
  const user = needUser(input.user);
  const objects = [].concat(input.object ?? []).map((o) => needString(o, "object"));
  if (objects.length === 0) throw new ControlError(400, "object is required");
  const ctx = ctxNow();
  const account = (await loadActor(input.account ?? objects[0])).object;
  const flag = new Flag({
    id: new URL(`${ORIGIN}/${randomUUID()}`), // Mastodon: root_url + a UUID
    actor: ctx.getActorUri(user.name),
    objects: objects.map((o) => new URL(o)),
    content: input.content ?? "",
  });
  const result = await deliver(ctx, user.name, [account], flag, {
    preferSharedInbox: input.sharedInbox === true,
  });
  return { ...result, ...first(result) };
}

// ---------------------------------------------------------------------------
// Start the inbox queue outside any request context, announce readiness, and
// arrange to exit with the parent.

federation.startQueue(undefined).catch((e) => log(`queue stopped: ${e}`));

let shuttingDown = false;
function shutdown(why) {
  if (shuttingDown) return;
  shuttingDown = true;
  log(`shutting down (${why})`);
  server.close();
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 200).unref();
  setImmediate(() => process.exit(0));
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));

// Exit when stdin (a pipe from the parent) closes.  Not when stdin is a TTY
// or /dev/null, so the peer can also be run by hand or with </dev/null.
try {
  const st = fs.fstatSync(0);
  if (st.isFIFO() || st.isSocket()) {
    process.stdin.on("data", () => {});
    process.stdin.on("end", () => shutdown("stdin closed"));
    process.stdin.on("close", () => shutdown("stdin closed"));
    process.stdin.on("error", () => shutdown("stdin error"));
    process.stdin.resume();
  }
} catch { /* no stdin */ }

// Exit when the parent process goes away (process.ppid is a snapshot in Node
// 20, so read the live value from /proc, or probe the original parent).
const parentPid = process.ppid;
function currentPpid() {
  try {
    const stat = fs.readFileSync("/proc/self/stat", "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    try {
      process.kill(parentPid, 0);
      return parentPid;
    } catch {
      return -1;
    }
  }
}
if (parentPid > 1) {
  setInterval(() => {
    if (currentPpid() !== parentPid) shutdown("parent exited");
  }, 1000).unref();
}

process.stdout.write(
  JSON.stringify({
    ready: true,
    origin: ORIGIN,
    users: USERS,
    actors: USERS.map((u) => `${ORIGIN}/users/${u}`),
    pid: process.pid,
  }) + "\n",
);
