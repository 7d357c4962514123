/**
 * The renderer's only door to the backend (SPEC §1). Inside Electron the preload exposes
 * `window.loupe`; in a browser opened from `loupe serve` this module speaks the same contract over
 * a WebSocket to the serving host, with the token from the page's URL. Nothing else in the
 * renderer knows which transport is in use.
 */
import type {
  MAX_CALLS_IN_FLIGHT,
  WEBSOCKET_PATH,
  InvokeArgs,
  InvokeChannel,
  InvokeResult,
  LoupeBridge,
  Push,
  PushChannel,
  WirePush,
  WireResult,
} from '../shared/ipc.js';

declare global {
  interface Window {
    loupe?: LoupeBridge;
  }
}

/** An invoke the backend refused or failed; `name` is the backend error's name. */
export class BridgeError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The WebSocket path. Typed against the contract's constant, which is not imported at run time
 * because shared/ipc.ts also carries the backend's argument schemas (zod) that the UI never needs.
 */
const WS_PATH: typeof WEBSOCKET_PATH = '/ws';
/** As many calls as the server runs at once per connection (the contract's MAX_CALLS_IN_FLIGHT). */
const CALLS_IN_FLIGHT: typeof MAX_CALLS_IN_FLIGHT = 4;

/** First reconnect delay; doubles up to the cap so a restarting server is not hammered. */
const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 5000;

export type ConnectionState = 'connecting' | 'open' | 'closed';

/** The WebSocket client for `loupe serve`. */
class WebSocketBridge implements LoupeBridge {
  private socket: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Map<PushChannel, Set<(payload: never) => void>>();
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private opened: Promise<void> | null = null;
  private reconnectDelay = RECONNECT_FIRST_MS;
  private inFlight = 0;
  /** Calls waiting for one of the server's slots, oldest first. */
  private readonly queued: (() => void)[] = [];

  constructor(private readonly url: string) {}

  private connect(): Promise<void> {
    if (this.opened) return this.opened;
    this.emitState('connecting');
    this.opened = new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(this.url);
      this.socket = socket;
      socket.onopen = () => {
        this.reconnectDelay = RECONNECT_FIRST_MS;
        this.emitState('open');
        resolve();
      };
      socket.onmessage = (event) => this.receive(String(event.data));
      socket.onclose = () => {
        this.socket = null;
        this.opened = null;
        for (const { reject: fail } of this.pending.values()) fail(new BridgeError('ConnectionError', 'the connection to loupe serve closed'));
        this.pending.clear();
        this.emitState('closed');
        reject(new BridgeError('ConnectionError', 'could not connect to loupe serve; is it still running?'));
        // Live subscriptions died with the socket; listeners of `workspace:changed` re-read and resubscribe.
        setTimeout(() => {
          void this.connect().then(
            () => this.dispatch('workspace:changed', {}),
            () => undefined,
          );
        }, this.reconnectDelay);
        this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
      };
    });
    // A failed first attempt is reported to the caller that triggered it; avoid an unhandled rejection.
    this.opened.catch(() => undefined);
    return this.opened;
  }

  private receive(data: string): void {
    let message: WireResult | WirePush;
    try {
      message = JSON.parse(data) as WireResult | WirePush;
    } catch {
      return;
    }
    if (message.kind === 'result') {
      const call = this.pending.get(message.id);
      if (!call) return;
      this.pending.delete(message.id);
      if (message.ok) call.resolve(message.result);
      else call.reject(new BridgeError(message.error.name, message.error.message));
    } else if (message.kind === 'push') {
      this.dispatch(message.channel, message.payload as never);
    }
  }

  private dispatch<C extends PushChannel>(channel: C, payload: Push[C]): void {
    for (const listener of this.listeners.get(channel) ?? []) (listener as (p: Push[C]) => void)(payload);
  }

  private emitState(state: ConnectionState): void {
    for (const listener of this.stateListeners) listener(state);
  }

  /**
   * Sends a call once fewer than CALLS_IN_FLIGHT are running: the server refuses the ones beyond
   * (four panes opening at once, each with its tail and summary, would otherwise fail to load).
   */
  async invoke<C extends InvokeChannel>(channel: C, args: InvokeArgs<C>): Promise<InvokeResult<C>> {
    if (this.inFlight < CALLS_IN_FLIGHT) this.inFlight++;
    else await new Promise<void>((start) => this.queued.push(start)); // a finishing call hands over its slot
    try {
      await this.connect();
      const id = this.nextId++;
      return await new Promise<InvokeResult<C>>((resolve, reject) => {
        this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        this.socket!.send(JSON.stringify({ kind: 'invoke', id, channel, args }));
      });
    } finally {
      const next = this.queued.shift();
      if (next) next();
      else this.inFlight--;
    }
  }

  on<C extends PushChannel>(channel: C, listener: (payload: Push[C]) => void): () => void {
    void this.connect().catch(() => undefined);
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  onConnection(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }
}

/** The token `loupe serve` put in the URL it printed (`?token=` or `#token=`). */
function pageToken(): string {
  const fromQuery = new URLSearchParams(location.search).get('token');
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
  return fromQuery ?? fromHash ?? '';
}

function createBridge(): LoupeBridge & { onConnection?: (l: (s: ConnectionState) => void) => () => void } {
  if (window.loupe) return window.loupe;
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  // After the first visit the server trades the URL token for a cookie, which the socket then carries.
  const token = pageToken();
  const url = `${scheme}//${location.host}${WS_PATH}${token ? `?token=${encodeURIComponent(token)}` : ''}`;
  return new WebSocketBridge(url);
}

/** The backend, whichever transport carries it. */
export const bridge = createBridge();

/** Typed shorthand for `bridge.invoke`. */
export function invoke<C extends InvokeChannel>(channel: C, args: InvokeArgs<C>): Promise<InvokeResult<C>> {
  return bridge.invoke(channel, args);
}

/** Subscribes to a push channel; returns the unsubscribe function. */
export function onPush<C extends PushChannel>(channel: C, listener: (payload: Push[C]) => void): () => void {
  return bridge.on(channel, listener);
}

/** Connection state changes of the WebSocket transport (Electron's IPC never disconnects). */
export function onConnectionState(listener: (state: ConnectionState) => void): () => void {
  return bridge.onConnection?.(listener) ?? (() => undefined);
}
