// wsauth.js: a dependency-free browser client for this app's /token and authenticated WebSocket streams.
//
//   import { WsAuthClient } from "/wsauth.js";
//   const client = new WsAuthClient();
//   client.addEventListener("message", (e) => show(e.detail.message));
//   await client.signIn("bob", "bob-dev-password");
//   client.connect(path);   // a consumer's path, its route values filled in
//
// It knows no consumer: a message with a numeric `id` and a `createdAt` is a stored message of its stream (an event
// named after its type, once per id, resumed after it on a reconnect); every message is a `message` event.
//
// Tokens are kept in memory only (never in storage, never in a URL): a socket is opened with a one-time
// ticket from POST /ws/ticket. With `{session: true}` it signs in with POST /session instead: the refresh
// token lives in an HttpOnly cookie no script can read (`restore()` signs a reloaded page back in), and
// sockets are opened with the session cookie, which the browser sends by itself.
// See the app's README, "From a browser", for the reconnect rules.

/**
 * @typedef {object} WsAuthOptions
 * @property {string} [baseUrl] Origin of the app (default: the page's own origin).
 * @property {number} [initialBackoffMs] First reconnect delay before jitter (default 500).
 * @property {number} [maxBackoffMs] Largest reconnect delay before jitter (default 15000).
 * @property {typeof fetch} [fetch] The fetch to use (default: the global one).
 * @property {boolean} [session] Sign in with POST /session (default false: POST /token): the refresh token stays in
 *   the app's HttpOnly cookie, renewed with POST /session/refresh, and {@link WsAuthClient#restore} picks the session
 *   up again after a reload. For pages the app serves itself (the cookies are SameSite=Strict, for its own origin).
 */

/**
 * @typedef {object} TokenResponse
 * @property {string} access_token
 * @property {"Bearer"} token_type
 * @property {number} expires_in Seconds.
 * @property {string} [refresh_token] Absent from the answers of /session and /session/refresh (it stays in the cookie).
 */

/**
 * @typedef {object} WelcomeMessage
 * @property {"welcome"} type
 * @property {{id: string, username: string}} user
 * @property {string} connectionId
 * @property {string} expiresAt
 */

/**
 * A message of a stream's log: its position in the stream (`id`), when it was stored, then the consumer's own fields.
 * @typedef {{type: string, id: number, createdAt: string} & Record<string, unknown>} StoredMessage
 */

/**
 * A message nobody stores, sent by a consumer (no `id`).
 * @typedef {{type: string} & Record<string, unknown>} OtherMessage
 */

/**
 * @typedef {{type: "auth.expiring", expiresAt: string}
 *   | {type: "auth.refreshed", expiresAt: string}
 *   | {type: "resumed", recovered: boolean}
 *   | {type: "pong", id?: unknown}
 *   | {type: "auth", status: number, error: string, detail?: string}
 *   | {type: "error", code: "invalid_json" | "unknown_type" | "invalid_message" | "invalid_refresh", detail?: string}} ControlMessage
 */

/** @typedef {WelcomeMessage | ControlMessage | StoredMessage | OtherMessage} ServerMessage */

/** @typedef {"connecting" | "open" | "reconnecting" | "closed" | "forbidden"} StreamState */

/**
 * Detail of the `message` event, and of the event named after a stored message's type.
 * @typedef {object} MessageDetail
 * @property {string} stream The path the stream was connected with.
 * @property {ServerMessage} message
 */

/**
 * Detail of the `state` event.
 * @typedef {object} StateDetail
 * @property {string} stream
 * @property {StreamState} state
 * @property {number} [code] The close code that led to this state, when one did.
 * @property {string} [reason] The close reason, when one did.
 * @property {number} [delayMs] With "reconnecting": how long until the next attempt.
 */

/**
 * Detail of the `error` event.
 * @typedef {object} ErrorDetail
 * @property {string} [stream]
 * @property {string} error A short code: "forbidden", "closed", "handshake_failed", "ticket_failed",
 *   "refresh_unavailable", or a socket `error` code ("invalid_refresh", ...).
 * @property {string} [detail]
 */

/**
 * Detail of the `signedout` event.
 * @typedef {object} SignedOutDetail
 * @property {"signout" | "refresh_failed"} reason
 */

/**
 * What a refresh came to: a new token, signed out (refused, or signed out meanwhile), or not now
 * (network error, 429, 5xx: the tokens are kept, try again after `retryAfterMs` at least).
 * @typedef {{status: "refreshed"} | {status: "signed_out"} | {status: "unavailable", retryAfterMs: number}} RefreshResult
 */

/** `ticket` null: the session cookie is the handshake's credential. @typedef {{ticket: string | null, token: string} | {retryAfterMs: number} | {signedOut: true}} TicketResult */

/**
 * What a {@link Stream} needs from its client: closures over the client's private state, so that none
 * of it is public API.
 * @typedef {object} StreamHost
 * @property {() => string | null} accessToken
 * @property {() => boolean} signedIn
 * @property {() => Promise<TicketResult>} ticket A one-time ticket for a handshake.
 * @property {() => Promise<RefreshResult>} refresh
 * @property {(token: string | null) => void} tokenExpiring A socket on `token` was told it is about to expire.
 * @property {(path: string) => URL} socketUrl The ws:// or wss:// address of a path.
 * @property {(attempt: number) => number} backoff The delay before reconnect attempt `attempt` (0, 1, ...).
 * @property {(type: string, detail: object) => void} emit
 */

/** A connection that stayed open this long starts its back-off from the beginning again. */
const STABLE_MS = 10000;

/** Close codes after which a stream reconnects with back-off. */
const RETRY_CODES = new Set([1001, 1006, 1008, 1011, 1012, 1013, 4029]);

/**
 * After this many sockets in a row that closed 1006 before `welcome` although their ticket was issued,
 * a stream stops: that is how a handshake refused with an HTTP status (`WebSockets:RejectWith=HttpStatus`)
 * looks to a browser, and retrying it would never end.
 */
const MAX_FAILED_HANDSHAKES = 5;

/**
 * The `sub` claim of an access token (a JWT), or null when it cannot be read.
 * @param {string} token
 */
function subject(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).sub ?? null;
  } catch {
    return null;
  }
}

/** In session mode, where the refresh token is: the browser sends it, no script holds it. */
const IN_COOKIE = "(the HttpOnly session cookie)";

/** The client's own events: a stored message of such a type is a `message` event only. */
const CLIENT_EVENTS = new Set(["message", "state", "signedout", "error"]);

/** Module-private: the client hands a newer access token to a stream's open socket. */
const HAND_OUT = Symbol("handOut");

/** Thrown by {@link WsAuthClient#api} and the sign-in when the server answers with an error. */
export class WsAuthError extends Error {
  /**
   * @param {string} message
   * @param {number} status
   * @param {unknown} [body]
   * @param {number} [retryAfterMs]
   */
  constructor(message, status, body, retryAfterMs = 0) {
    super(message);
    this.name = "WsAuthError";
    /** The HTTP status (0 for a network failure). */
    this.status = status;
    /** The parsed JSON error body, if any. */
    this.body = body;
    /** The response's `Retry-After`, in milliseconds (0 without one). */
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * Signs in, keeps the tokens in memory, and runs any number of WebSocket streams that refresh their
 * token, reconnect and resume by themselves.
 *
 * Events (all `CustomEvent`s): `message` ({@link MessageDetail}, every message, duplicates dropped),
 * one named after each stored message's type (the same detail, once per id), `state` ({@link StateDetail}),
 * `signedout` ({@link SignedOutDetail}), `error` ({@link ErrorDetail}).
 */
export class WsAuthClient extends EventTarget {
  /** @type {string | null} */ #access = null;
  /** The refresh token, or {@link IN_COOKIE} in session mode. @type {string | null} */ #refresh = null;
  /** Bumped whenever the tokens are forgotten: a token response of an older generation is dropped. */ #generation = 0;
  /** @type {Promise<RefreshResult> | null} */ #refreshing = null;
  /** When the access token was obtained, and how long it lasts (ms). */ #obtainedAt = 0;
  #lifetimeMs = 0;
  /** @type {ReturnType<typeof setTimeout> | null} */ #refreshTimer = null;
  /** Refreshes in a row that were unavailable while the sockets were still open. */ #refreshAttempt = 0;
  /** @type {Map<string, Stream>} */ #streams = new Map();
  /** @type {StreamHost} */ #host;
  #baseUrl;
  #fetch;
  #session;
  #initialBackoffMs;
  #maxBackoffMs;

  /** @param {WsAuthOptions} [options] */
  constructor(options = {}) {
    super();
    this.#baseUrl = (options.baseUrl ?? globalThis.location?.origin ?? "").replace(/\/$/, "");
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#session = options.session ?? false;
    this.#initialBackoffMs = options.initialBackoffMs ?? 500;
    this.#maxBackoffMs = options.maxBackoffMs ?? 15000;
    this.#host = {
      accessToken: () => this.#access,
      signedIn: () => this.signedIn,
      ticket: () => this.#ticket(),
      refresh: () => this.#refreshOnce(),
      tokenExpiring: (token) => this.#tokenExpiring(token),
      socketUrl: (path) => this.#socketUrl(path),
      backoff: (attempt) => this.#backoff(attempt),
      emit: (type, detail) => this.#emit(type, detail),
    };
  }

  /** Whether the client holds tokens. */
  get signedIn() {
    return this.#access !== null;
  }

  /**
   * Signs in with the password grant of POST /token (or with POST /session, in session mode).
   * @param {string} username
   * @param {string} password
   * @returns {Promise<void>} Rejects with a {@link WsAuthError} (status 400 `invalid_grant` for bad credentials).
   */
  async signIn(username, password) {
    await (this.#session
      ? this.#token("/session", { username, password })
      : this.#token("/token", { grant_type: "password", username, password }));
  }

  /**
   * Session mode: signs back in with the session's HttpOnly refresh cookie (POST /session/refresh), as a page
   * does when it loads.
   * @returns {Promise<boolean>} Whether there was a session to pick up (false: show the sign-in form). Rejects
   *   with a {@link WsAuthError} when the server cannot be asked (network error, 429, 5xx).
   */
  async restore() {
    if (!this.#session) {
      throw new Error("restore() needs the session option.");
    }
    try {
      return await this.#sessionRefresh();
    } catch (error) {
      if (error instanceof WsAuthError && (error.status === 400 || error.status === 401)) {
        return false; // no session, or it ended (expired, revoked, signed out elsewhere)
      }
      throw error;
    }
  }

  /**
   * Trades the refresh token for a new pair (single flight: concurrent callers share one request, as
   * refresh tokens are single use). A refused refresh grant (400) signs the client out (`signedout`
   * event); a network error, 429 or 5xx keeps the tokens.
   * @returns {Promise<boolean>} Whether a new access token was obtained.
   */
  async refresh() {
    return (await this.#refreshOnce()).status === "refreshed";
  }

  /**
   * Calls the app's HTTP API with the bearer token; a 401 refreshes the token once and retries.
   * @param {string} path e.g. "/me"
   * @param {RequestInit} [init]
   * @returns {Promise<any>} The parsed JSON body (null for an empty body).
   */
  async api(path, init = {}) {
    let response = await this.#authorized(path, init);
    if (response.status === 401 && (await this.refresh())) {
      response = await this.#authorized(path, init);
    }
    const body = await readJson(response);
    if (!response.ok) {
      throw new WsAuthError(`${init.method ?? "GET"} ${path}: HTTP ${response.status}`, response.status, body, retryAfterMs(response));
    }
    return body;
  }

  /**
   * Opens (or returns) the stream on `path`, a consumer's path with its route values filled in.
   * @param {string} path
   * @param {{since?: number}} [options] Resume after this id on the first connection too.
   * @returns {Stream}
   */
  connect(path, options = {}) {
    let stream = this.#streams.get(path);
    if (!stream || stream.state === "closed" || stream.state === "forbidden") {
      stream = new Stream(this.#host, path, options.since ?? stream?.lastId ?? null);
      this.#streams.set(path, stream);
    }
    return stream;
  }

  /** @returns {Stream[]} The streams this client runs (or ran). */
  get streams() {
    return [...this.#streams.values()];
  }

  /** Closes every stream (code 1000); the client stays signed in. */
  close() {
    for (const stream of this.#streams.values()) {
      stream.close();
    }
  }

  /** Closes every stream, revokes the refresh token (in session mode: ends the session) and forgets both tokens. */
  async signOut() {
    this.close();
    const refresh = this.#refresh;
    this.#forget();
    try {
      if (this.#session) {
        await this.#fetch(this.#baseUrl + "/session", { method: "DELETE" });
      } else if (refresh) {
        await this.#post("/token/revoke", { token: refresh });
      }
    } catch {
      // Revocation is best effort; the tokens are forgotten anyway.
    }
    this.#emit("signedout", { reason: "signout" });
  }

  // ---- private ----

  /** @returns {Promise<RefreshResult>} */
  #refreshOnce() {
    if (!this.#refreshing) {
      const flight = this.#doRefresh().finally(() => {
        if (this.#refreshing === flight) {
          this.#refreshing = null;
        }
      });
      this.#refreshing = flight;
    }
    return this.#refreshing;
  }

  /** @returns {Promise<RefreshResult>} */
  async #doRefresh() {
    const refresh = this.#refresh;
    if (!refresh) {
      return { status: "signed_out" };
    }
    const generation = this.#generation;
    try {
      const stored = this.#session
        ? await this.#sessionRefresh()
        : await this.#token("/token", { grant_type: "refresh_token", refresh_token: refresh });
      if (!stored) {
        return { status: "signed_out" }; // signed out while the request was in flight
      }
    } catch (error) {
      if (generation !== this.#generation) {
        return { status: "signed_out" };
      }
      const status = error instanceof WsAuthError ? error.status : 0;
      // The grant refused (invalid_grant, invalid_request; invalid_client would be 401): the sign-in is over.
      if (status === 400 || status === 401) {
        this.#signedOutByServer();
        return { status: "signed_out" };
      }
      // A network error, 429 or 5xx: the refresh token may still be good, so keep it and try again later.
      this.#emit("error", { error: "refresh_unavailable", detail: status === 0 ? "network error" : `HTTP ${status}` });
      return { status: "unavailable", retryAfterMs: error instanceof WsAuthError ? error.retryAfterMs : 0 };
    }
    this.#handOut();
    return { status: "refreshed" };
  }

  /**
   * A one-time ticket for a WebSocket handshake; a 401 refreshes the token once and asks again.
   * @returns {Promise<TicketResult>}
   */
  async #ticket() {
    for (let attempt = 0; ; attempt++) {
      const token = this.#access;
      if (!token) {
        return { signedOut: true };
      }
      if (this.#session) {
        // The browser sends the session cookie with the handshake (a ticket beside it would be a second credential).
        return { ticket: null, token };
      }
      let response;
      try {
        response = await this.#fetch(this.#baseUrl + "/ws/ticket", {
          method: "POST",
          headers: { Authorization: `Bearer ${token}` },
        });
      } catch {
        return { retryAfterMs: 0 };
      }
      if (response.status === 401 && attempt === 0) {
        const refreshed = await this.#refreshOnce();
        if (refreshed.status === "refreshed") {
          continue;
        }
        if (!this.signedIn) {
          return { signedOut: true };
        }
        return { retryAfterMs: refreshed.status === "unavailable" ? refreshed.retryAfterMs : 0 };
      }
      if (!response.ok) {
        return { retryAfterMs: retryAfterMs(response) };
      }
      const body = await readJson(response);
      if (body === null || typeof body.ticket !== "string") {
        return { retryAfterMs: 0 }; // not the answer of this app (a proxy's page?): try again later
      }
      return { ticket: body.ticket, token };
    }
  }

  /** @param {string} path */
  #socketUrl(path) {
    const url = new URL(path, this.#baseUrl || globalThis.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url;
  }

  /**
   * Jittered exponential back-off: half of min(max, initial·2ⁿ) fixed, plus a random half.
   * @param {number} attempt
   */
  #backoff(attempt) {
    const ceiling = Math.min(this.#maxBackoffMs, this.#initialBackoffMs * 2 ** attempt);
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }

  /**
   * A socket on `token` was told it is about to expire: get a newer token (once for all streams, and
   * never before half the token's life, or a warning lead as long as the token would refresh in a
   * loop); a successful refresh hands it to every open socket.
   * @param {string | null} token
   */
  #tokenExpiring(token) {
    if (token !== this.#access) {
      this.#handOut(); // already refreshed: this socket just has not been told
      return;
    }
    this.#refreshLater(Math.max(0, this.#obtainedAt + this.#lifetimeMs / 2 - Date.now()));
  }

  /**
   * Refreshes after `delayMs`; while the refresh is unavailable and the access token still valid, tries
   * again with back-off (after that, the sockets close 4001 and each stream retries on its own).
   * @param {number} delayMs
   */
  #refreshLater(delayMs) {
    this.#refreshTimer ??= setTimeout(async () => {
      this.#refreshTimer = null;
      const result = await this.#refreshOnce();
      if (result.status === "unavailable" && Date.now() < this.#obtainedAt + this.#lifetimeMs) {
        this.#refreshLater(Math.max(result.retryAfterMs, this.#backoff(this.#refreshAttempt++)));
      } else {
        this.#refreshAttempt = 0;
      }
    }, delayMs);
  }

  /** Sends the current access token to every open socket still on an older one. */
  #handOut() {
    for (const stream of this.#streams.values()) {
      stream[HAND_OUT](this.#access);
    }
  }

  /** Sign-out after a refused refresh: every stream stops. */
  #signedOutByServer() {
    if (this.#access === null && this.#refresh === null) {
      return;
    }
    this.#forget();
    this.close();
    this.#emit("signedout", { reason: "refresh_failed" });
  }

  /**
   * POST /session/refresh. Every tab of the app shares the refresh cookie, and a refresh token presented twice ends
   * the session, so the tabs take turns (a Web Lock): each one sends the cookie the one before it renewed.
   * @returns {Promise<boolean>} Whether the new token was stored.
   */
  #sessionRefresh() {
    const refresh = () => this.#token("/session/refresh", {});
    return globalThis.navigator?.locks ? globalThis.navigator.locks.request("wsauth.session.refresh", refresh).then((stored) => stored) : refresh();
  }

  /**
   * Stores the token(s) of a token response, unless the client was signed out while it was in flight.
   * @param {string} path POST /token, or in session mode POST /session or /session/refresh.
   * @param {Record<string, string>} fields
   * @returns {Promise<boolean>} Whether the token(s) were stored.
   */
  async #token(path, fields) {
    const generation = this.#generation;
    const body = await this.#post(path, fields);
    if (generation !== this.#generation) {
      return false;
    }
    if (!body || typeof body.access_token !== "string" || (!this.#session && typeof body.refresh_token !== "string")) {
      throw new WsAuthError(`POST ${path}: not a token response`, 502);
    }
    const tokens = /** @type {TokenResponse} */ (body);
    if (this.#session && this.#access !== null && subject(tokens.access_token) !== subject(this.#access)) {
      // The browser's cookie now holds another user's session (signed in in another tab): this page's is over.
      this.#signedOutByServer();
      return false;
    }
    this.#access = tokens.access_token;
    this.#refresh = this.#session ? IN_COOKIE : tokens.refresh_token ?? null;
    this.#obtainedAt = Date.now();
    this.#lifetimeMs = tokens.expires_in * 1000;
    return true;
  }

  /**
   * @param {string} path
   * @param {Record<string, string>} fields Sent form-urlencoded, in the body.
   * @returns {Promise<any>} The parsed JSON body (null for an empty or non-JSON body).
   */
  async #post(path, fields) {
    let response;
    try {
      response = await this.#fetch(this.#baseUrl + path, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(fields),
      });
    } catch {
      throw new WsAuthError(`POST ${path}: network error`, 0);
    }
    const body = await readJson(response);
    if (!response.ok) {
      const error = body && typeof body.error === "string" ? body.error : `HTTP ${response.status}`;
      throw new WsAuthError(`POST ${path}: ${error}`, response.status, body, retryAfterMs(response));
    }
    return body;
  }

  /**
   * @param {string} path
   * @param {RequestInit} init
   */
  #authorized(path, init) {
    const headers = new Headers(init.headers);
    if (this.#access) {
      headers.set("Authorization", `Bearer ${this.#access}`);
    }
    return this.#fetch(this.#baseUrl + path, { ...init, headers });
  }

  #forget() {
    this.#generation++;
    this.#access = null;
    this.#refresh = null;
    this.#refreshing = null;
    this.#refreshAttempt = 0;
    if (this.#refreshTimer !== null) {
      clearTimeout(this.#refreshTimer);
      this.#refreshTimer = null;
    }
  }

  /**
   * @param {string} type
   * @param {object} detail
   */
  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

/**
 * One WebSocket stream: its socket, its state, the last id it handed out, its reconnects. Made by
 * {@link WsAuthClient#connect}.
 */
export class Stream {
  /** @type {StreamState} */ #state = "connecting";
  /** @type {number | null} */ #lastId;
  /** The access token the current socket is authenticated with. @type {string | null} */ #token = null;
  /** Tokens sent with `auth.refresh` and not answered yet, oldest first. @type {string[]} */ #pending = [];
  /** @type {WebSocket | null} */ #socket = null;
  /** @type {ReturnType<typeof setTimeout> | null} */ #timer = null;
  #attempt = 0;
  /** When the current socket was welcomed (0: it was not). */ #openedAt = 0;
  /** Sockets in a row that got a ticket and then closed 1006 before `welcome`. */ #failedHandshakes = 0;
  #stopped = false;
  #host;
  #path;

  /**
   * @param {StreamHost} host
   * @param {string} path
   * @param {number | null} since
   */
  constructor(host, path, since) {
    this.#host = host;
    this.#path = path;
    this.#lastId = since;
    this.#setState("connecting");
    void this.#open();
  }

  /** The path this stream connects to. */
  get path() {
    return this.#path;
  }

  /** @returns {StreamState} */
  get state() {
    return this.#state;
  }

  /** The last message id handed to the app (null: none yet). */
  get lastId() {
    return this.#lastId;
  }

  /**
   * Sends a message on the socket (e.g. `{type: "publish", event: "chat", data: {...}}` on an
   * organization stream).
   * @param {object} message
   * @returns {boolean} Whether the socket was open to take it.
   */
  send(message) {
    if (this.#socket?.readyState !== WebSocket.OPEN) {
      return false;
    }
    this.#socket.send(JSON.stringify(message));
    return true;
  }

  /** Closes this stream for good (code 1000). */
  close() {
    if (this.#stopped) {
      return;
    }
    this.#socket?.close(1000, "closed by the client");
    this.#socket = null;
    this.#stop("closed");
  }

  /**
   * Module-private: hands a newer access token to the open socket, unless it has it or was sent it.
   * It counts as the socket's once `auth.refreshed` confirms it.
   * @param {string | null} token
   */
  [HAND_OUT](token) {
    if (!token || token === this.#token || this.#pending.includes(token)) {
      return;
    }
    if (this.send({ type: "auth.refresh", access_token: token })) {
      this.#pending.push(token);
    }
  }

  async #open() {
    const result = await this.#host.ticket();
    if (this.#stopped) {
      return;
    }
    if ("signedOut" in result) {
      this.#stop("closed"); // the client stopped every stream already, as it signed out
      return;
    }
    if ("retryAfterMs" in result) {
      this.#host.emit("error", { stream: this.#path, error: "ticket_failed" });
      this.#retry(undefined, undefined, result.retryAfterMs);
      return;
    }

    const url = this.#host.socketUrl(this.#path);
    if (result.ticket !== null) {
      url.searchParams.set("ticket", result.ticket);
    }
    if (this.#lastId !== null) {
      url.searchParams.set("since", String(this.#lastId));
    }
    const socket = new WebSocket(url);
    this.#socket = socket;
    this.#token = result.token;
    this.#pending = [];
    /** @type {{status: number, error: string} | null} */
    let refusal = null;
    socket.onmessage = (event) => {
      if (this.#socket !== socket) {
        return;
      }
      /** @type {ServerMessage} */
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === "auth") {
        refusal = /** @type {{status: number, error: string}} */ (message);
      }
      this.#receive(message);
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) {
        return;
      }
      this.#socket = null;
      void this.#closed(event.code, event.reason, refusal);
    };
  }

  /** @param {ServerMessage} message */
  #receive(message) {
    switch (message.type) {
      case "welcome":
        this.#openedAt = Date.now();
        this.#failedHandshakes = 0;
        this.#setState("open");
        break;
      case "auth.expiring":
        this.#host.tokenExpiring(this.#token);
        break;
      case "auth.refreshed":
        this.#token = this.#pending.shift() ?? this.#token;
        break;
      case "error":
        if (message.code === "invalid_refresh") {
          this.#refused(this.#pending.shift());
        }
        this.#host.emit("error", { stream: this.#path, error: message.code, detail: message.detail });
        break;
      case "pong": // its id, if any, is the ping's
        break;
      default:
        if ("id" in message && typeof message.id === "number" && "createdAt" in message) {
          // A stored message. Ids increase per stream: one at or below the last handed out was handed out already.
          if (this.#lastId !== null && message.id <= this.#lastId) {
            return;
          }
          this.#lastId = message.id;
          this.#host.emit("message", { stream: this.#path, message });
          if (!CLIENT_EVENTS.has(message.type)) {
            this.#host.emit(message.type, { stream: this.#path, message });
          }
          return;
        }
    }
    this.#host.emit("message", { stream: this.#path, message });
  }

  /**
   * The server refused `token` for this socket: the socket keeps its own until it expires (then 4001
   * reconnects with a ticket), unless the client holds a still newer one by now, which is worth a try.
   * @param {string | undefined} token
   */
  #refused(token) {
    const current = this.#host.accessToken();
    if (token !== undefined && current !== token) {
      this[HAND_OUT](current);
    }
  }

  /**
   * @param {number} code
   * @param {string} reason
   * @param {{status: number, error: string} | null} refusal
   */
  async #closed(code, reason, refusal) {
    if (this.#stopped) {
      return;
    }
    // Back-off grows across sockets that are refused or dropped at once (e.g. 4029 "too many
    // connections" right after the handshake), and starts over after one that stayed up.
    if (this.#openedAt !== 0 && Date.now() - this.#openedAt >= STABLE_MS) {
      this.#attempt = 0;
    }
    const welcomed = this.#openedAt !== 0;
    this.#openedAt = 0;
    if (code === 4003) {
      this.#host.emit("error", { stream: this.#path, error: "forbidden", detail: reason });
      this.#stop("forbidden", code, reason);
      return;
    }
    if (code === 4001) {
      // Only with a new token: the refresh grant (unless another stream already got one). Refused,
      // the client signed out and stopped every stream; unavailable, try again later.
      const current = this.#host.accessToken();
      if (current !== null && current !== this.#token) {
        this.#retry(code, reason, 0);
        return;
      }
      const refreshed = await this.#host.refresh();
      if (this.#stopped) {
        return;
      }
      if (refreshed.status === "refreshed") {
        this.#retry(code, reason, 0);
      } else if (this.#host.signedIn()) {
        this.#retry(code, reason, refreshed.status === "unavailable" ? refreshed.retryAfterMs : 0);
      } else {
        this.#stop("closed", code, reason);
      }
      return;
    }
    if (code === 1006 && !welcomed && ++this.#failedHandshakes >= MAX_FAILED_HANDSHAKES) {
      this.#host.emit("error", {
        stream: this.#path,
        error: "handshake_failed",
        detail: `${this.#failedHandshakes} sockets in a row closed before the welcome (a handshake refused with an HTTP status?)`,
      });
      this.#stop("closed", code, reason);
      return;
    }
    if (RETRY_CODES.has(code) || refusal?.status === 503) {
      this.#retry(code, reason);
      return;
    }
    this.#host.emit("error", { stream: this.#path, error: "closed", detail: `${code} ${reason}`.trim() });
    this.#stop("closed", code, reason);
  }

  /**
   * Schedules the next attempt after the client's back-off, and at least `atLeastMs`.
   * @param {number} [code]
   * @param {string} [reason]
   * @param {number} [atLeastMs]
   */
  #retry(code, reason, atLeastMs) {
    if (this.#stopped) {
      return;
    }
    const delayMs = Math.max(atLeastMs ?? 0, this.#host.backoff(this.#attempt++));
    this.#setState("reconnecting", { code, reason, delayMs });
    this.#clearTimer();
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (!this.#stopped) {
        void this.#open();
      }
    }, delayMs);
  }

  /**
   * @param {StreamState} state
   * @param {number} [code]
   * @param {string} [reason]
   */
  #stop(state, code, reason) {
    if (this.#stopped) {
      return;
    }
    this.#stopped = true;
    this.#clearTimer();
    this.#setState(state, { code, reason });
  }

  #clearTimer() {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  /**
   * @param {StreamState} state
   * @param {{code?: number, reason?: string, delayMs?: number}} [extra]
   */
  #setState(state, extra = {}) {
    this.#state = state;
    /** @type {StateDetail} */
    const detail = { stream: this.#path, state };
    if (extra.code !== undefined) detail.code = extra.code;
    if (extra.reason !== undefined) detail.reason = extra.reason;
    if (extra.delayMs !== undefined) detail.delayMs = extra.delayMs;
    this.#host.emit("state", detail);
  }
}

/**
 * The JSON body of a response, or null when it is empty, not JSON, or cut off.
 * @param {Response} response
 * @returns {Promise<any>}
 */
async function readJson(response) {
  try {
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/**
 * A response's `Retry-After` (seconds or an HTTP date) in milliseconds; 0 without one.
 * @param {Response} response
 */
function retryAfterMs(response) {
  const value = response.headers.get("Retry-After");
  if (!value) {
    return 0;
  }
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}
