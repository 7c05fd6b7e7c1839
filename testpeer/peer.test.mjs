// Smoke test: two Fedify test peers talk to each other through the control
// API.  Run with `node --test testpeer/` (after `npm ci` in testpeer/).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

const PEER = fileURLToPath(new URL("./peer.mjs", import.meta.url));

async function startPeer(users = ["peer"]) {
  const child = spawn(
    process.execPath,
    [PEER, "--port", "0", ...users.flatMap((u) => ["--user", u])],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout });
  const timeout = setTimeout(() => child.kill(), 15000);
  const [line] = await Promise.race([
    once(lines, "line"),
    once(child, "exit").then(() => {
      throw new Error(`peer exited before ready: ${stderr}`);
    }),
  ]);
  clearTimeout(timeout);
  const ready = JSON.parse(line);
  assert.equal(ready.ready, true);
  assert.match(ready.origin, /^http:\/\/127\.0\.0\.1:\d+$/);
  return { child, origin: ready.origin, stderr: () => stderr };
}

async function call(peer, method, path, body) {
  const res = await fetch(peer.origin + path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  return { httpStatus: res.status, ...json };
}

let A;
let B;

before(async () => {
  [A, B] = await Promise.all([startPeer(["peer", "mallory"]), startPeer()]);
});

after(async () => {
  for (const p of [A, B]) {
    if (p == null || p.child.exitCode != null) continue;
    const exited = once(p.child, "exit");
    p.child.stdin.end(); // the peer exits when stdin closes
    await exited;
  }
});

test("A follows B; B's Accept reaches A and is verified", async () => {
  const bActor = (await call(B, "GET", "/_control/actor?user=peer")).id;
  const f = await call(A, "POST", "/_control/follow", { user: "peer", target: bActor });
  assert.equal(f.ok, true, JSON.stringify(f));
  assert.equal(f.status, 202);
  assert.match(f.id, /\/users\/peer\/follows\//);

  const follows = await call(B, "GET", `/_control/received?user=peer&type=Follow&handled=true&wait=5000`);
  assert.equal(follows.count, 1);
  assert.equal(follows.items[0].verified, true);
  assert.equal(follows.items[0].id, f.id);

  const accepts = await call(A, "GET", `/_control/received?user=peer&type=Accept&wait=5000`);
  assert.equal(accepts.count, 1, JSON.stringify(accepts));
  const acc = accepts.items[0];
  assert.equal(acc.verified, true, acc.reason);
  assert.equal(acc.status, 202);
  assert.equal(acc.actor, bActor);
  assert.equal(acc.activity.object.id, f.id); // the Follow is embedded

  const aState = await call(A, "GET", "/_control/actor?user=peer");
  // The Accept listener runs after the 202; wait for it.
  for (let i = 0; i < 50 && aState.followingList[0]?.state !== "accepted"; i++) {
    await new Promise((r) => setTimeout(r, 100));
    Object.assign(aState, await call(A, "GET", "/_control/actor?user=peer"));
  }
  assert.equal(aState.followingList[0].state, "accepted");
  const bState = await call(B, "GET", "/_control/actor?user=peer");
  assert.equal(bState.followerList[0].id, aState.id);
});

test("an LD-signed body is still refused without a good HTTP signature", async () => {
  // Fedify alone would accept these (a valid LD signature / proof makes it skip
  // the HTTP signature); the peer checks the HTTP signature as Mastodon does.
  const sentByA = await call(A, "GET", `/_control/sent?method=POST&url=${encodeURIComponent(B.origin)}`);
  const followBody = sentByA.items.find((s) => JSON.parse(s.request_body).type === "Follow").request_body;
  assert.ok(JSON.parse(followBody).signature && JSON.parse(followBody).proof);
  const inbox = `${B.origin}/users/peer/inbox`;
  const unsigned = await call(A, "POST", "/_control/send", { user: "peer", inbox, activity: followBody, sign: false });
  assert.equal(unsigned.status, 401);
  assert.match(unsigned.body, /no Signature header/);
  const forged = await call(A, "POST", "/_control/send", { user: "peer", inbox, activity: followBody, signAs: "mallory" });
  assert.equal(forged.status, 401);
  assert.match(forged.body, /does not belong to the activity's actor/);
});

test("lookup resolves a handle through WebFinger over http", async () => {
  const host = new URL(B.origin).host;
  const r = await call(A, "POST", "/_control/lookup", { handle: `@peer@${host}` });
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(r.type, "Person");
  assert.equal(r.preferredUsername, "peer");
  assert.equal(r.inbox, `${B.origin}/users/peer/inbox`);
  assert.equal(r.sharedInbox, `${B.origin}/inbox`);
  assert.equal(r.publicKeyId, `${B.origin}/users/peer#main-key`);
});

test("lookup refuses to leave loopback", async () => {
  const r = await call(A, "POST", "/_control/lookup", { url: "http://example.com/users/x" });
  assert.equal(r.ok, false);
  assert.match(r.error, /refusing to fetch non-loopback URL/);
});

test("A sends a DM to B; B records it verified", async () => {
  const bActor = `${B.origin}/users/peer`;
  const s = await call(A, "POST", "/_control/send", {
    user: "peer",
    to: [bActor],
    note: { content: "hello B", direct: true },
  });
  assert.equal(s.ok, true, JSON.stringify(s));
  assert.equal(s.status, 202);
  const got = await call(B, "GET", `/_control/received?user=peer&type=Create&id=${encodeURIComponent(s.id)}&handled=true&wait=5000`);
  assert.equal(got.count, 1);
  const rec = got.items[0];
  assert.equal(rec.verified, true, rec.reason);
  assert.equal(rec.object_type, "Note");
  assert.match(rec.activity.object.content, /hello B/);
  assert.deepEqual([].concat(rec.activity.object.to), [bActor]);
  assert.equal(rec.activity.object.tag.type, "Mention");
  // Fedify adds a FEP-8b32 proof and an LD signature; the peer still checked the HTTP signature.
  assert.ok(rec.activity.proof);
  assert.ok(rec.headers.signature);
});

test("a tampered send is refused with 401 and recorded as refused", async () => {
  const aActor = `${A.origin}/users/peer`;
  const bActor = `${B.origin}/users/peer`;
  const activity = {
    "@context": "https://www.w3.org/ns/activitystreams",
    id: `${aActor}#tamper/1`,
    type: "Create",
    actor: aActor,
    to: bActor,
    object: { id: `${aActor}#tamper/1/note`, type: "Note", content: "original text", attributedTo: aActor, to: bActor },
  };
  const s = await call(A, "POST", "/_control/send", {
    user: "peer",
    inbox: `${B.origin}/users/peer/inbox`,
    activity,
    tamper: true,
  });
  assert.equal(s.ok, true, JSON.stringify(s));
  assert.equal(s.status, 401);
  assert.ok(s.deliveries[0].tamper);
  const got = await call(B, "GET", `/_control/received?user=peer&verified=false&id=${encodeURIComponent(activity.id)}`);
  assert.equal(got.count, 1);
  assert.equal(got.items[0].status, 401);
  assert.match(got.items[0].reason, /digest mismatch/i);

  // The same bytes untampered are accepted.
  const ok = await call(A, "POST", "/_control/send", {
    user: "peer",
    inbox: `${B.origin}/users/peer/inbox`,
    activity: { ...activity, id: `${aActor}#tamper/2` },
  });
  assert.equal(ok.status, 202, JSON.stringify(ok));
});

test("a body signed with another actor's key is refused", async () => {
  const aActor = `${A.origin}/users/peer`;
  const s = await call(A, "POST", "/_control/send", {
    user: "peer",
    signAs: "mallory",
    inbox: `${B.origin}/inbox`,
    activity: {
      "@context": "https://www.w3.org/ns/activitystreams",
      id: `${aActor}#forged/1`,
      type: "Create",
      actor: aActor,
      to: `${B.origin}/users/peer`,
      object: { id: `${aActor}#forged/1/note`, type: "Note", content: "forged", attributedTo: aActor },
    },
  });
  assert.equal(s.status, 401, JSON.stringify(s));
  const got = await call(B, "GET", `/_control/received?verified=false&id=${encodeURIComponent(`${aActor}#forged/1`)}`);
  assert.equal(got.count, 1);
  assert.match(got.items[0].reason, /does not belong to the activity's actor/);
  assert.deepEqual(got.items[0].recipients, ["peer"]); // shared inbox, addressed to peer
});

test("Mastodon-shaped votes reach the author's inbox", async () => {
  // B posts a public note to its followers (A follows B); A "votes" on it
  // (any object with attributedTo will do for the peer).
  const post = await call(B, "POST", "/_control/send", {
    user: "peer",
    to: "followers",
    note: { content: "a poll stand-in" },
  });
  assert.equal(post.status, 202, JSON.stringify(post));
  assert.equal(post.deliveries[0].inbox, `${A.origin}/users/peer/inbox`);
  const atA = await call(A, "GET", `/_control/received?user=peer&type=Create&id=${encodeURIComponent(post.id)}&handled=true&wait=5000`);
  assert.equal(atA.count, 1);
  assert.equal(atA.items[0].verified, true);
  const v = await call(A, "POST", "/_control/vote", {
    user: "peer",
    question: post.object,
    options: ["Red", "Blue"],
    separate: true,
  });
  assert.equal(v.ok, true, JSON.stringify(v));
  assert.deepEqual(v.statuses, [202, 202]);
  const got = await call(B, "GET", `/_control/received?user=peer&type=Create&actor=${encodeURIComponent(`${A.origin}/users/peer`)}&verified=true&wait=5000&min=2`);
  const votes = got.items.filter((r) => r.activity.object?.inReplyTo === post.object);
  assert.deepEqual(votes.map((r) => r.activity.object.name).sort(), ["Blue", "Red"]);

  const v2 = await call(A, "POST", "/_control/vote", {
    user: "peer",
    question: post.object,
    options: ["Red", "Blue"],
    separate: false,
  });
  assert.deepEqual(v2.statuses, [202]);
});

test("unfollow sends Undo{Follow}; reset clears the records", async () => {
  const bActor = `${B.origin}/users/peer`;
  const u = await call(A, "POST", "/_control/unfollow", { user: "peer", target: bActor });
  assert.equal(u.status, 202, JSON.stringify(u));
  const got = await call(B, "GET", "/_control/received?user=peer&type=Undo&handled=true&wait=5000");
  assert.equal(got.count, 1);
  assert.equal(got.items[0].activity.object.type, "Follow");
  const bState = await call(B, "GET", "/_control/actor?user=peer");
  assert.equal(bState.followerList.length, 0);
  const r = await call(B, "POST", "/_control/reset", {});
  assert.ok(r.cleared > 0);
  assert.equal((await call(B, "GET", "/_control/received")).count, 0);
});
