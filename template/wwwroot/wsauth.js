// wsauth.js: a dependency-free browser client for this app's /token and authenticated WebSocket streams.
//
//   import { WsAuthClient } from "/wsauth.js";
//   const client = new WsAuthClient();
//   client.addEventListener("notification", (e) => show(e.detail.message));
//   await client.signIn("bob", "bob-dev-password");
//   client.connect("/ws/notifications");
//
// Tokens are kept in memory only (never in storage, never in a URL): a socket is opened with a one-time
// ticket from POST /ws/ticket. See the app's README, "From a browser", for the reconnect rules.

/**
 * @typedef {object} WsAuthOptions
 * @property {string} [baseUrl] Origin of the app (default: the page's own origin).
 * @property {number} [initialBackoffMs] First reconnect delay before jitter (default 500).
 * @property {number} [maxBackoffMs] Largest reconnect delay before jitter (default 15000).
 * @property {typeof fetch} [fetch] The fetch to use (default: the global one).
 */

/**
 * @typedef {object} TokenResponse
 * @property {string} access_token
 * @property {"Bearer"} token_type
 * @property {number} expires_in Seconds.
 * @property {string} refresh_token
 */

/**
 * @typedef {object} WelcomeMessage
 * @property {"welcome"} type
 * @property {{id: string, username: string}} user
 * @property {string} connectionId
 * @property {string} expiresAt
 */

/**
 * @typedef {object} NotificationMessage
 * @property {"notification"} type
 * @property {number} id
 * @property {string} title
 * @property {string} body
 * @property {unknown} data
 * @property {string} createdAt
 */

/**
 * @typedef {object} OrgEventMessage
 * @property {"org.event"} type
 * @property {number} id
 * @property {string} orgId
 * @property {string} event
 * @property {unknown} data
 * @property {{id: string, username: string}} sender
 * @property {string} createdAt
 */

/**
 * @typedef {{type: "auth.expiring", expiresAt: string}
 *   | {type: "auth.refreshed", expiresAt: string}
 *   | {type: "resumed", recovered: boolean}
 *   | {type: "pong", id?: unknown}
 *   | {type: "auth", status: number, error: string, detail?: string}
 *   | {type: "error", code: "invalid_json" | "unknown_type" | "invalid_message" | "invalid_refresh", detail?: string}} ControlMessage
 */

/** @typedef {WelcomeMessage | NotificationMessage | OrgEventMessage | ControlMessage} ServerMessage */

/** @typedef {"connecting" | "open" | "reconnecting" | "closed" | "forbidden"} StreamState */

/**
 * Detail of the `message`, `notification` and `org.event` events.
 * @typedef {object} MessageDetail
 * @property {string} stream The path the stream was connected with, e.g. "/ws/notifications".
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
 * @property {string} error A short code: "forbidden", "closed", "ticket_failed", "server_error", "invalid_refresh", ...
 * @property {string} [detail]
 */

/**
 * Detail of the `signedout` event.
 * @typedef {object} SignedOutDetail
 * @property {"signout" | "refresh_failed"} reason
 */

/** A connection that stayed open this long starts its back-off from the beginning again. */
const STABLE_MS = 10000;

/** Close codes after which a stream reconnects with back-off. */
const RETRY_CODES = new Set([1001, 1006, 1011, 1012, 1013, 4029]);

/** Thrown by {@link WsAuthClient#api} and the sign-in when the server answers with an error. */
export class WsAuthError extends Error {
  /**
   * @param {string} message
   * @param {number} status
   * @param {unknown} [body]
   */
  constructor(message, status, body) {
    super(message);
    this.name = "WsAuthError";
    /** The HTTP status (0 for a network failure). */
    this.status = status;
    /** The parsed JSON error body, if any. */
    this.body = body;
  }
}

/**
 * Signs in, keeps the tokens in memory, and runs any number of WebSocket streams that refresh their
 * token, reconnect and resume by themselves.
 *
 * Events (all `CustomEvent`s): `message` ({@link MessageDetail}, every message, duplicates dropped),
 * `notification` and `org.event` (the same detail, for those types), `state` ({@link StateDetail}),
 * `signedout` ({@link SignedOutDetail}), `error` ({@link ErrorDetail}).
 */
export class WsAuthClient extends EventTarget {
  /** @type {string | null} */ #access = null;
  /** @type {string | null} */ #refresh = null;
  /** @type {Promise<boolean> | null} */ #refreshing = null;
  /** When the access token was obtained, and how long it lasts (ms). */ #obtainedAt = 0;
  #lifetimeMs = 0;
  /** @type {ReturnType<typeof setTimeout> | null} */ #refreshTimer = null;
  /** @type {Map<string, Stream>} */ #streams = new Map();
  #baseUrl;
  #fetch;
  #initialBackoffMs;
  #maxBackoffMs;

  /** @param {WsAuthOptions} [options] */
  constructor(options = {}) {
    super();
    this.#baseUrl = (options.baseUrl ?? globalThis.location?.origin ?? "").replace(/\/$/, "");
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#initialBackoffMs = options.initialBackoffMs ?? 500;
    this.#maxBackoffMs = options.maxBackoffMs ?? 15000;
  }

  /** Whether the client holds tokens. */
  get signedIn() {
    return this.#access !== null;
  }

  /**
   * Signs in with the password grant of POST /token.
   * @param {string} username
   * @param {string} password
   * @returns {Promise<void>} Rejects with a {@link WsAuthError} (status 400 `invalid_grant` for bad credentials).
   */
  async signIn(username, password) {
    await this.#token({ grant_type: "password", username, password });
  }

  /**
   * Trades the refresh token for a new pair (single flight: concurrent callers share one request, as
   * refresh tokens are single use). On failure the client is signed out (`signedout` event).
   * @returns {Promise<boolean>} Whether a new access token was obtained.
   */
  refresh() {
    if (!this.#refreshing) {
      this.#refreshing = this.#doRefresh().finally(() => {
        this.#refreshing = null;
      });
    }
    return this.#refreshing;
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
    const text = await response.text();
    /** @type {any} */
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (!response.ok) {
      throw new WsAuthError(`${init.method ?? "GET"} ${path}: HTTP ${response.status}`, response.status, body);
    }
    return body;
  }

  /**
   * Opens (or returns) the stream on `path`, e.g. "/ws/notifications" or `/ws/events/${orgId}`.
   * @param {string} path
   * @param {{since?: number}} [options] Resume after this id on the first connection too.
   * @returns {Stream}
   */
  connect(path, options = {}) {
    let stream = this.#streams.get(path);
    if (!stream || stream.state === "closed" || stream.state === "forbidden") {
      stream = new Stream(this, path, options.since ?? stream?.lastId ?? null);
      this.#streams.set(path, stream);
      stream.start();
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

  /** Closes every stream, revokes the refresh token and forgets both tokens. */
  async signOut() {
    this.close();
    const refresh = this.#refresh;
    this.#forget();
    if (refresh) {
      try {
        await this.#post("/token/revoke", { token: refresh });
      } catch {
        // Revocation is best effort; the tokens are forgotten anyway.
      }
    }
    this.#emit("signedout", { reason: "signout" });
  }

  // ---- used by Stream ----

  /** @internal @returns {string | null} */
  get accessToken() {
    return this.#access;
  }

  /** @internal */
  get backoff() {
    return { initial: this.#initialBackoffMs, max: this.#maxBackoffMs };
  }

  /**
   * @internal A one-time ticket for a WebSocket handshake.
   * @returns {Promise<{ticket: string, token: string} | {retryAfterMs: number} | {signedOut: true}>}
   */
  async ticket() {
    for (let attempt = 0; attempt < 2; attempt++) {
      const token = this.#access;
      if (!token) {
        return { signedOut: true };
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
      if (response.ok) {
        const body = await response.json();
        return { ticket: body.ticket, token };
      }
      if (response.status === 401 && attempt === 0) {
        if (!(await this.refresh())) {
          return { signedOut: true };
        }
        continue;
      }
      const retryAfter = Number(response.headers.get("Retry-After"));
      return { retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 0 };
    }
    return { signedOut: true };
  }

  /**
   * @internal The ws:// or wss:// address of `path`.
   * @param {string} path
   */
  socketUrl(path) {
    const url = new URL(path, this.#baseUrl || globalThis.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url;
  }

  /**
   * @internal A stream was told its token is about to expire: get a newer token (once for all streams)
   * and hand it to every open socket still on an older one.
   * @param {Stream} stream
   */
  async tokenExpiring(stream) {
    if (stream.token !== this.#access) {
      this.#handOut(); // already refreshed: this socket just has not been told
      return;
    }
    // Never before half the token's life: a warning lead as long as the token would refresh in a loop.
    const wait = this.#obtainedAt + this.#lifetimeMs / 2 - Date.now();
    if (wait > 0) {
      this.#refreshTimer ??= setTimeout(() => {
        this.#refreshTimer = null;
        void this.#refreshAndHandOut();
      }, wait);
      return;
    }
    await this.#refreshAndHandOut();
  }

  /**
   * @internal
   * @param {string} type
   * @param {object} detail
   */
  emit(type, detail) {
    this.#emit(type, detail);
  }

  /** @internal Sign-out after a failed refresh: every stream stops. */
  signedOutByServer() {
    if (this.#access === null && this.#refresh === null) {
      return;
    }
    this.#forget();
    this.close();
    this.#emit("signedout", { reason: "refresh_failed" });
  }

  // ---- private ----

  async #refreshAndHandOut() {
    if (await this.refresh()) {
      this.#handOut();
    }
  }

  /** Sends the current access token to every open socket still on an older one. */
  #handOut() {
    for (const open of this.#streams.values()) {
      open.sendRefresh(this.#access);
    }
  }

  async #doRefresh() {
    if (!this.#refresh) {
      return false;
    }
    try {
      await this.#token({ grant_type: "refresh_token", refresh_token: this.#refresh });
      return true;
    } catch (error) {
      // A network failure keeps the tokens (the refresh token may still be good); a refusal signs out.
      if (error instanceof WsAuthError && error.status === 0) {
        this.#emit("error", { error: "refresh_unreachable" });
        return false;
      }
      this.signedOutByServer();
      return false;
    }
  }

  /** @param {Record<string, string>} fields */
  async #token(fields) {
    const body = /** @type {TokenResponse} */ (await this.#post("/token", fields));
    this.#access = body.access_token;
    this.#refresh = body.refresh_token;
    this.#obtainedAt = Date.now();
    this.#lifetimeMs = body.expires_in * 1000;
  }

  /**
   * @param {string} path
   * @param {Record<string, string>} fields Sent form-urlencoded, in the body.
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
    const text = await response.text();
    /** @type {any} */
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (!response.ok) {
      const error = body && typeof body.error === "string" ? body.error : `HTTP ${response.status}`;
      throw new WsAuthError(`POST ${path}: ${error}`, response.status, body);
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
    this.#access = null;
    this.#refresh = null;
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

/** One WebSocket stream: its socket, its state, the last id it handed out, its reconnects. */
export class Stream {
  /** @type {StreamState} */ state = "connecting";
  /** The last message id handed to the app (null: none yet). @type {number | null} */ lastId;
  /** The access token the current socket is authenticated with. @type {string | null} */ token = null;
  /** @type {WebSocket | null} */ #socket = null;
  /** @type {ReturnType<typeof setTimeout> | null} */ #timer = null;
  #attempt = 0;
  /** When the current socket was welcomed (0: it was not). */ #openedAt = 0;
  #stopped = false;
  #client;
  #path;

  /**
   * @param {WsAuthClient} client
   * @param {string} path
   * @param {number | null} since
   */
  constructor(client, path, since) {
    this.#client = client;
    this.#path = path;
    this.lastId = since;
  }

  /** The path this stream connects to. */
  get path() {
    return this.#path;
  }

  /** @internal */
  start() {
    this.#setState("connecting");
    void this.#open();
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
    this.#stopped = true;
    this.#clearTimer();
    this.#socket?.close(1000, "closed by the client");
    this.#socket = null;
    this.#setState("closed");
  }

  /**
   * @internal Hands a newer access token to the open socket, if it is on an older one.
   * @param {string | null} token
   */
  sendRefresh(token) {
    if (token && this.token !== token && this.send({ type: "auth.refresh", access_token: token })) {
      this.token = token;
    }
  }

  async #open() {
    const result = await this.#client.ticket();
    if (this.#stopped) {
      return;
    }
    if ("signedOut" in result) {
      this.#client.signedOutByServer(); // closes every stream, this one included
      this.#stop("closed");
      return;
    }
    if ("retryAfterMs" in result) {
      this.#client.emit("error", { stream: this.#path, error: "ticket_failed" });
      this.#retry(undefined, undefined, result.retryAfterMs);
      return;
    }

    const url = this.#client.socketUrl(this.#path);
    url.searchParams.set("ticket", result.ticket);
    if (this.lastId !== null) {
      url.searchParams.set("since", String(this.lastId));
    }
    const socket = new WebSocket(url);
    this.#socket = socket;
    this.token = result.token;
    /** @type {{status: number, error: string} | null} */
    let refusal = null;
    socket.onmessage = (event) => {
      /** @type {ServerMessage} */
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === "auth") {
        refusal = message;
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
        this.#setState("open");
        break;
      case "auth.expiring":
        void this.#client.tokenExpiring(this);
        break;
      case "error":
        this.#client.emit("error", { stream: this.#path, error: message.code, detail: message.detail });
        break;
      case "notification":
      case "org.event":
        // Ids increase per stream: one at or below the last handed out was handed out already.
        if (this.lastId !== null && message.id <= this.lastId) {
          return;
        }
        this.lastId = message.id;
        this.#client.emit("message", { stream: this.#path, message });
        this.#client.emit(message.type, { stream: this.#path, message });
        return;
    }
    this.#client.emit("message", { stream: this.#path, message });
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
    this.#openedAt = 0;
    if (code === 4003) {
      this.#client.emit("error", { stream: this.#path, error: "forbidden", detail: reason });
      this.#stop("forbidden", code, reason);
      return;
    }
    if (code === 4001) {
      // Only with a new token: the refresh grant (unless another stream already got one), or signed
      // out when it is refused.
      const newer = this.#client.accessToken !== null && this.token !== this.#client.accessToken;
      if (newer || (await this.#client.refresh())) {
        this.#retry(code, reason, 0);
      } else if (!this.#client.signedIn) {
        this.#stop("closed", code, reason);
      } else {
        this.#retry(code, reason); // the token endpoint was unreachable: try again later
      }
      return;
    }
    if (RETRY_CODES.has(code) || refusal?.status === 503) {
      this.#retry(code, reason);
      return;
    }
    this.#client.emit("error", { stream: this.#path, error: "closed", detail: `${code} ${reason}`.trim() });
    this.#stop("closed", code, reason);
  }

  /**
   * Schedules the next attempt: jittered exponential back-off (half fixed, half random), at least `atLeastMs`.
   * @param {number} [code]
   * @param {string} [reason]
   * @param {number} [atLeastMs]
   */
  #retry(code, reason, atLeastMs) {
    const { initial, max } = this.#client.backoff;
    const ceiling = Math.min(max, initial * 2 ** this.#attempt);
    this.#attempt++;
    const delayMs = Math.max(atLeastMs ?? 0, Math.round(ceiling / 2 + Math.random() * (ceiling / 2)));
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
    this.state = state;
    /** @type {StateDetail} */
    const detail = { stream: this.#path, state };
    if (extra.code !== undefined) detail.code = extra.code;
    if (extra.reason !== undefined) detail.reason = extra.reason;
    if (extra.delayMs !== undefined) detail.delayMs = extra.delayMs;
    this.#client.emit("state", detail);
  }
}
