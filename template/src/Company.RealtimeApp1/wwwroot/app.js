// The development page: signs in, connects the notifications stream and one events stream per
// organization (each with its history), shows what arrives, who is online in each organization and who is
// typing, publishes organization events, and lets an admin send a notification. Served at / in Development.
// It signs in for a browser session: the refresh token stays in an HttpOnly cookie, so a reload signs it back
// in with no token in storage.
import { WsAuthClient, WsAuthError } from "./wsauth.js";

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @type {WsAuthClient | null} */
let client = null;
/** Stream path → its entry in the stream list. @type {Map<string, HTMLElement>} */
const streamItems = new Map();
/** Stream path → the list its messages go to. @type {Map<string, HTMLElement>} */
const messageLists = new Map();
/** Organization stream path → who is online there, by user id. @type {Map<string, Map<string, string>>} */
const online = new Map();
/** Organization stream path → its section's parts. @type {Map<string, {online: HTMLElement, typing: HTMLElement, timers: Map<string, ReturnType<typeof setTimeout>>}>} */
const orgViews = new Map();
/** How long "… is typing" shows after the last signal, and how often a typing user sends one. */
const TypingShownMs = 3000;
const TypingEveryMs = 1000;
/** Why the server closed a stream, in the page's words. @type {Record<number, string>} */
const CloseReasons = {
  4001: "signed out (the credentials changed or were revoked elsewhere)",
  4003: "removed: no longer allowed on this stream",
  4029: "too many messages or connections",
  1012: "messages were missed; reconnecting to catch up",
};

$("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = /** @type {HTMLInputElement} */ ($("username"));
  const password = /** @type {HTMLInputElement} */ ($("password"));
  const submit = /** @type {HTMLButtonElement} */ ($("signin-submit"));
  submit.disabled = true;
  showSignInError("");
  const next = new WsAuthClient({ session: true });
  try {
    await next.signIn(username.value, password.value);
    password.value = "";
    await start(next);
  } catch (error) {
    showSignInError(signInFailure(error));
  } finally {
    submit.disabled = false;
  }
});

$("notify").addEventListener("submit", async (event) => {
  event.preventDefault();
  const result = $("notify-result");
  const userId = /** @type {HTMLSelectElement} */ ($("notify-user")).value;
  const title = /** @type {HTMLInputElement} */ ($("notify-title")).value;
  const body = /** @type {HTMLInputElement} */ ($("notify-body")).value;
  if (!client || userId === "") {
    result.textContent = client ? "Pick someone online." : "Not signed in.";
    result.className = "error";
    return;
  }
  try {
    const sent = await client.api("/api/notifications", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ userId, title, body }),
    });
    result.textContent = `Sent notification ${sent.id}.`;
    result.className = "";
  } catch (error) {
    result.textContent = `Not sent: ${error instanceof WsAuthError ? `HTTP ${error.status}` : "network error"}.`;
    result.className = "error";
  }
});

$("signout").addEventListener("click", async () => {
  const current = client;
  client = null;
  await current?.signOut();
  reset("");
});

$("publish").addEventListener("submit", async (event) => {
  event.preventDefault();
  const result = $("publish-result");
  const orgId = /** @type {HTMLSelectElement} */ ($("publish-org")).value;
  const type = /** @type {HTMLInputElement} */ ($("publish-type")).value;
  const text = /** @type {HTMLTextAreaElement} */ ($("publish-data")).value;
  /** @type {unknown} */
  let data;
  try {
    data = text.trim() === "" ? null : JSON.parse(text);
  } catch {
    result.textContent = "Data is not valid JSON.";
    result.className = "error";
    return;
  }
  if (!client) {
    result.textContent = "Not signed in.";
    result.className = "error";
    return;
  }
  try {
    const body = await client.api(`/api/orgs/${encodeURIComponent(orgId)}/events`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ type, data }),
    });
    result.textContent = `Published event ${body.id}.`;
    result.className = "";
  } catch (error) {
    const code = error instanceof WsAuthError && error.body && typeof error.body === "object" && "error" in error.body
      ? ` (${/** @type {{error: string}} */ (error.body).error})` : "";
    result.textContent = `Not published: ${error instanceof WsAuthError ? `HTTP ${error.status}` : "network error"}${code}.`;
    result.className = "error";
  }
});

restore();

/** A reload (or a new tab): the session's HttpOnly cookie signs the page back in; without one, the sign-in form. */
async function restore() {
  const next = new WsAuthClient({ session: true });
  try {
    if (await next.restore()) {
      await start(next);
      return;
    }
    reset("");
  } catch (error) {
    reset(error instanceof WsAuthError && error.status === 0 ? "The server cannot be reached." : "");
  }
}

/** Shows the session of a client that just signed in; if `/me` fails, signs it out again (and rethrows). @param {WsAuthClient} next */
async function start(next) {
  /** @type {{id: string, username: string, roles: string[], organizations: {id: string, slug: string, name: string, role: string}[]}} */
  let me;
  try {
    me = await next.api("/me");
  } catch (error) {
    await next.signOut(); // revokes the refresh token: no session is left behind
    throw error;
  }
  client = next;
  reset("");
  $("signin-section").hidden = true;
  $("session").hidden = false;
  $("signout").hidden = false;
  const meText = $("me");
  meText.textContent = `Signed in as ${me.username}`;
  meText.hidden = false;

  next.addEventListener("state", (event) => {
    const { stream, state, code } = /** @type {CustomEvent<import("./wsauth.js").StateDetail>} */ (event).detail;
    const item = streamItems.get(stream);
    if (!item) return;
    item.dataset.state = state;
    if (code !== undefined) item.dataset.lastClose = String(code);
    /** @type {HTMLElement} */ (item.querySelector(".state")).textContent = state;
    const why = /** @type {HTMLElement} */ (item.querySelector(".reason"));
    const reason = state === "open" || code === undefined ? undefined : CloseReasons[code];
    why.textContent = reason ? ` (${reason})` : "";
    if (state !== "open" && online.has(stream)) showOnline(stream, new Map());
  });
  next.addEventListener("message", (event) => {
    const { stream, message } = /** @type {CustomEvent<import("./wsauth.js").MessageDetail>} */ (event).detail;
    const item = streamItems.get(stream);
    if (item && message.type === "auth.refreshed") {
      item.dataset.refreshes = String(Number(item.dataset.refreshes ?? "0") + 1);
    }
    const users = online.get(stream);
    if (!users) return;
    if (message.type === "presence") {
      showOnline(stream, new Map(message.members.map((/** @type {{id: string, username: string}} */ m) => [m.id, m.username])));
    } else if (message.type === "presence.joined") {
      showOnline(stream, new Map(users).set(message.user.id, message.user.username));
    } else if (message.type === "presence.left") {
      const next = new Map(users);
      next.delete(message.user.id);
      showOnline(stream, next);
      typingStopped(stream, message.user.username);
    } else if (message.type === "org.signal" && message.event === "typing") {
      typingSeen(stream, message.sender.username);
    }
  });
  next.addEventListener("notification", (event) => {
    const { stream, message } = /** @type {CustomEvent<import("./wsauth.js").MessageDetail>} */ (event).detail;
    if (message.type !== "notification") return;
    append(stream, "notification", message.id, `${message.title}: ${message.body}`, message.createdAt);
  });
  next.addEventListener("org.event", (event) => {
    const { stream, message } = /** @type {CustomEvent<import("./wsauth.js").MessageDetail>} */ (event).detail;
    if (message.type !== "org.event") return;
    append(stream, "org-event", message.id, `${message.sender.username} · ${message.event}: ${JSON.stringify(message.data)}`, message.createdAt);
  });
  next.addEventListener("signedout", (event) => {
    if (client !== next) return;
    client = null;
    const { reason } = /** @type {CustomEvent<import("./wsauth.js").SignedOutDetail>} */ (event).detail;
    reset(reason === "refresh_failed" ? "Your session ended; sign in again." : "");
  });

  addStream("/ws/notifications", "notifications", "notifications");
  messageLists.set("/ws/notifications", $("notifications"));
  const select = /** @type {HTMLSelectElement} */ ($("publish-org"));
  for (const org of me.organizations) {
    const path = `/ws/events/${encodeURIComponent(org.id)}`;
    addStream(path, `org-${org.slug}`, `${org.slug} events`);
    const section = document.createElement("div");
    section.className = "org";
    section.dataset.testid = `org-${org.slug}`;
    const title = document.createElement("h3");
    title.textContent = `${org.name} (${org.role})`;
    const list = document.createElement("ol");
    list.className = "messages";
    list.id = `events-${org.slug}`;
    list.dataset.testid = `events-${org.slug}`;
    const who = document.createElement("ul");
    who.className = "online";
    who.dataset.testid = `online-${org.slug}`;
    const typing = document.createElement("p");
    typing.className = "typing";
    typing.dataset.testid = `typing-${org.slug}`;
    const say = document.createElement("form");
    say.className = "say";
    const sayText = document.createElement("input");
    sayText.placeholder = `Say something to ${org.name}`;
    sayText.dataset.testid = `say-${org.slug}`;
    let lastSignal = 0;
    sayText.addEventListener("input", () => {
      // A signal: to the others online, never stored; at most one a second, within the socket's rate limit.
      if (Date.now() - lastSignal < TypingEveryMs) return;
      lastSignal = Date.now();
      next.streams.find((s) => s.path === path)?.send({ type: "signal", event: "typing" });
    });
    say.addEventListener("submit", (event) => {
      event.preventDefault();
      if (sayText.value.trim() === "") return;
      next.streams.find((s) => s.path === path)?.send({ type: "publish", event: "chat", data: { text: sayText.value } });
      sayText.value = "";
    });
    say.append(sayText);
    section.append(title, who, list, typing, say);
    online.set(path, new Map());
    orgViews.set(path, { online: who, typing, timers: new Map() });
    $("orgs").append(section);
    messageLists.set(path, list);
    const option = document.createElement("option");
    option.value = org.id;
    option.textContent = org.name;
    select.append(option);
  }
  $("notify-section").hidden = !me.roles.includes("admin");
  for (const path of streamItems.keys()) {
    // From the start of each stream's stored history: what was said before this page opened shows too.
    next.connect(path, { since: 0 });
  }
}

/** Shows who is online on an organization's stream, and offers them to the notification form. @param {string} stream @param {Map<string, string>} users */
function showOnline(stream, users) {
  online.set(stream, users);
  const view = orgViews.get(stream);
  if (!view) return;
  view.online.replaceChildren(...[...users].sort((a, b) => a[1].localeCompare(b[1])).map(([id, name]) => {
    const item = document.createElement("li");
    item.dataset.user = id;
    item.textContent = name;
    return item;
  }));
  const select = /** @type {HTMLSelectElement} */ ($("notify-user"));
  const everyone = new Map([...online.values()].flatMap((m) => [...m]));
  const chosen = select.value;
  select.replaceChildren(...[...everyone].map(([id, name]) => {
    const option = document.createElement("option");
    option.value = id;
    option.textContent = name;
    return option;
  }));
  if (everyone.has(chosen)) select.value = chosen;
}

/** @param {string} stream @param {string} username */
function typingSeen(stream, username) {
  const view = orgViews.get(stream);
  if (!view) return;
  clearTimeout(view.timers.get(username));
  view.timers.set(username, setTimeout(() => typingStopped(stream, username), TypingShownMs));
  showTyping(view);
}

/** @param {string} stream @param {string} username */
function typingStopped(stream, username) {
  const view = orgViews.get(stream);
  if (!view) return;
  clearTimeout(view.timers.get(username));
  view.timers.delete(username);
  showTyping(view);
}

/** @param {{typing: HTMLElement, timers: Map<string, unknown>}} view */
function showTyping(view) {
  const names = [...view.timers.keys()].sort();
  view.typing.textContent = names.length === 0 ? "" : `${names.join(", ")} ${names.length === 1 ? "is" : "are"} typing…`;
}

/**
 * @param {string} path
 * @param {string} key
 * @param {string} label
 */
function addStream(path, key, label) {
  const item = document.createElement("li");
  item.id = `stream-${key}`;
  item.dataset.testid = `stream-${key}`;
  item.dataset.state = "connecting";
  const name = document.createElement("span");
  name.textContent = `${label}: `;
  const state = document.createElement("span");
  state.className = "state";
  state.textContent = "connecting";
  const reason = document.createElement("span");
  reason.className = "reason";
  reason.dataset.testid = `reason-${key}`;
  item.append(name, state, reason);
  $("streams").append(item);
  streamItems.set(path, item);
}

/**
 * @param {string} stream
 * @param {string} testid
 * @param {number} id
 * @param {string} text
 * @param {string} createdAt
 */
function append(stream, testid, id, text, createdAt) {
  const list = messageLists.get(stream);
  if (!list) return;
  const item = document.createElement("li");
  item.dataset.testid = testid;
  item.dataset.id = String(id);
  const body = document.createElement("span");
  body.className = "text";
  body.textContent = text;
  const meta = document.createElement("span");
  meta.className = "meta";
  meta.textContent = `#${id} · ${new Date(createdAt).toLocaleTimeString()}`;
  item.append(body, meta);
  list.append(item);
}

/** Back to the sign-in form, with `message` shown when there is one. @param {string} message */
function reset(message) {
  for (const id of ["streams", "notifications", "orgs", "publish-org", "notify-user"]) $(id).replaceChildren();
  $("publish-result").textContent = "";
  $("notify-result").textContent = "";
  for (const view of orgViews.values()) for (const timer of view.timers.values()) clearTimeout(timer);
  streamItems.clear();
  messageLists.clear();
  online.clear();
  orgViews.clear();
  $("session").hidden = true;
  $("signout").hidden = true;
  $("me").hidden = true;
  $("signin-section").hidden = false;
  showSignInError(message);
}

/** @param {string} message */
function showSignInError(message) {
  const error = $("signin-error");
  error.textContent = message;
  error.hidden = message === "";
}

/** @param {unknown} error */
function signInFailure(error) {
  if (!(error instanceof WsAuthError)) return "Sign-in failed.";
  if (error.status === 400) return "Wrong user name or password.";
  if (error.status === 429) return "Too many attempts; try again in a minute.";
  if (error.status === 0) return "The server cannot be reached.";
  return `Sign-in failed (HTTP ${error.status}).`;
}
