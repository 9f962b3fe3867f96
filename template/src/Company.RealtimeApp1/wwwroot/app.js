// The development page: signs in, connects the notifications stream and one events stream per
// organization, shows what arrives, and publishes organization events. Served at / in Development.
import { WsAuthClient, WsAuthError } from "./wsauth.js";

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @type {WsAuthClient | null} */
let client = null;
/** Stream path → its entry in the stream list. @type {Map<string, HTMLElement>} */
const streamItems = new Map();
/** Stream path → the list its messages go to. @type {Map<string, HTMLElement>} */
const messageLists = new Map();

$("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = /** @type {HTMLInputElement} */ ($("username"));
  const password = /** @type {HTMLInputElement} */ ($("password"));
  const submit = /** @type {HTMLButtonElement} */ ($("signin-submit"));
  submit.disabled = true;
  showSignInError("");
  const next = new WsAuthClient();
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
  });
  next.addEventListener("message", (event) => {
    const { stream, message } = /** @type {CustomEvent<import("./wsauth.js").MessageDetail>} */ (event).detail;
    const item = streamItems.get(stream);
    if (item && message.type === "auth.refreshed") {
      item.dataset.refreshes = String(Number(item.dataset.refreshes ?? "0") + 1);
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
    section.append(title, list);
    $("orgs").append(section);
    messageLists.set(path, list);
    const option = document.createElement("option");
    option.value = org.id;
    option.textContent = org.name;
    select.append(option);
  }
  for (const path of streamItems.keys()) {
    next.connect(path);
  }
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
  item.append(name, state);
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
  for (const id of ["streams", "notifications", "orgs", "publish-org"]) $(id).replaceChildren();
  $("publish-result").textContent = "";
  streamItems.clear();
  messageLists.clear();
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
