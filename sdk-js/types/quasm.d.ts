/// <reference lib="es2023" />
// Quasm function runtime: the globals and handler types available to user code.
// Mirrors runtime/guest/prelude.js (plus what QuickJS-ng provides natively:
// DOMException, atob/btoa, queueMicrotask). Self-contained: does not need lib.dom.

// ---------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------

/**
 * The service bindings of the host platform (`env.NAME`), one property per
 * binding. `GET /api/v1/types` adds the bindings the tenant may use, with the
 * typed methods of their OpenAPI documents.
 */
interface QuasmBindings {}

/**
 * A service binding: requests below one base URL of a host service, each
 * carrying a token signed by Quasm (tenant, function, execution, user).
 */
interface ServiceBinding {
  /**
   * Sends a request to `path` below the binding's URL (`"/clients?limit=100"`).
   * `..`, absolute URLs, `//host`, encoded separators and redirects leaving the
   * base are refused; counts against the subrequest limit.
   */
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

/** What a typed binding method throws when the service answers outside 2xx. */
interface BindingHttpError extends Error {
  readonly name: 'BindingHttpError';
  readonly status: number;
  /** The answer's body: parsed JSON when it is JSON, else text. */
  readonly body: unknown;
}

/** The user (or API key) that started an invocation. */
interface QuasmUser {
  /** The credential's subject (`api-key:<id>` for API keys). */
  readonly id: string;
  readonly roles: readonly string[];
  /** From the caller's JWT (the operator's permissions claim), untouched. */
  readonly permissions: readonly string[];
}

/**
 * Bindings and variables passed to every handler. Variables configured for the
 * function are strings; declare them by merging into this interface:
 * `interface Env { API_KEY: string }` (inside `declare global { }` in a module).
 */
interface Env extends QuasmBindings {
  /** The function's key-value store. */
  readonly KV: KVNamespace;
  /** Publishes events to the tenant's event bus. */
  readonly EVENTS: EventsBinding;
  [variable: string]: any;
}

/** Per-invocation context (third handler argument). */
interface ExecutionContext {
  readonly invocationId: string;
  readonly tenant: string;
  readonly functionName: string;
  readonly version: string | number;
  /** What started the invocation: "http", "invoke", "cron", "event", "manual". */
  readonly trigger: string;
  /** On HTTP routes: the route's path parameters (`/orders/:id` gives `{ id }`; `*` gives `wildcard`). */
  readonly params?: Readonly<Record<string, string>>;
  /**
   * On `jwt` and `api_key` routes: the credential's subject (`api-key:<id>` for keys).
   * @deprecated Only set for functions with a compatibility date before 2026-12-04; use `ctx.user.id`.
   */
  readonly caller?: string;
  /** On routes with `strip_prefix`: the URL as received, with `/fn/{tenant}` (`request.url` omits it). */
  readonly originalUrl?: string;
  /** On event deliveries: the attempt number, as `event.attempt`. */
  readonly attempt?: number;
  /**
   * Who started the invocation (invoke API, manual runs, `jwt` and `api_key`
   * routes); `null` for cron slots, event deliveries and public routes.
   */
  readonly user: QuasmUser | null;
  /** Further invocation fields sent by the platform (snake_case names become camelCase). */
  readonly [field: string]: unknown;
  /** Keeps the invocation alive until `promise` settles; rejections are logged, not fatal. */
  waitUntil(promise: unknown): void;
  /**
   * Reports progress of a long-running invocation.
   * @param percent a number from 0 to 100 (RangeError otherwise)
   */
  progress(percent: number, message?: string): void;
  /** Accepted for Workers compatibility; does nothing. */
  passThroughOnException(): void;
}

/** The argument of a `scheduled` handler. */
interface ScheduledEvent {
  /** The cron expression that fired. */
  readonly cron: string;
  /** When the run was scheduled, in milliseconds since the UNIX epoch. */
  readonly scheduledTime: number;
  /** The IANA time zone the cron expression is evaluated in. */
  readonly timezone: string;
  /** The id of the schedule (a function may have several). */
  readonly scheduleId: number;
  /** The schedule's `input`, or null. */
  readonly input: unknown;
}

/**
 * The argument of an `event` handler. Delivery is at least once: the same
 * event (same `id`) may arrive more than once, e.g. after a node crash.
 */
interface QuasmEvent<Payload = unknown> {
  /** The event's id (a UUID), the same on every attempt. */
  readonly id: string;
  readonly type: string;
  readonly payload: Payload;
  /** The publisher's `key`, or null. */
  readonly key: string | null;
  /** 1 for the first delivery, incremented on each retry (reset by a dead-letter replay). */
  readonly attempt: number;
  /** When the event was published (RFC 3339). */
  readonly publishedAt: string;
}

/**
 * The default export of a function module: an object with any of these handlers.
 * `export default { async fetch(request, env, ctx) { ... } } satisfies QuasmHandlers;`
 * or, in JavaScript, annotate it with a `@type {QuasmHandlers}` JSDoc tag.
 */
interface QuasmHandlers<E = Env> {
  /** HTTP requests. Must return (a promise of) a Response. */
  fetch?(request: Request, env: E, ctx: ExecutionContext): Response | Promise<Response>;
  /** Cron triggers. The result is recorded as the invocation output (JSON). */
  scheduled?(event: ScheduledEvent, env: E, ctx: ExecutionContext): unknown;
  /** Events from the event bus. The result is recorded as the invocation output (JSON). */
  event?(event: QuasmEvent, env: E, ctx: ExecutionContext): unknown;
  /** Direct runs with a JSON input. The result must be JSON-serializable. */
  run?(input: any, env: E, ctx: ExecutionContext): unknown;
}

/**
 * A function default export handles every kind of invocation; its first argument
 * is the run input, the Request, the ScheduledEvent or the QuasmEvent.
 */
type QuasmHandler<E = Env> = (arg: any, env: E, ctx: ExecutionContext) => unknown;

// ---------------------------------------------------------------------------
// Bindings
// ---------------------------------------------------------------------------

interface KVNamespacePutOptions {
  /** Seconds until the key expires. */
  expirationTtl?: number;
  /** Absolute expiry as a UNIX time in seconds. */
  expiration?: number;
}
interface KVNamespaceListOptions {
  prefix?: string;
  limit?: number;
  /** The `cursor` of the previous page. */
  cursor?: string;
}
interface KVNamespaceListKey {
  name: string;
}
type KVNamespaceListResult =
  | { keys: KVNamespaceListKey[]; list_complete: false; cursor: string }
  | { keys: KVNamespaceListKey[]; list_complete: true };

interface KVNamespace {
  /** Resolves to null when the key does not exist. */
  get(key: string, type?: 'text' | { type: 'text' }): Promise<string | null>;
  get<T = unknown>(key: string, type: 'json' | { type: 'json' }): Promise<T | null>;
  get(key: string, type: 'arrayBuffer' | { type: 'arrayBuffer' }): Promise<ArrayBuffer | null>;
  put(key: string, value: string | ArrayBuffer | ArrayBufferView, options?: KVNamespacePutOptions): Promise<void>;
  delete(key: string): Promise<void>;
  list(options?: KVNamespaceListOptions): Promise<KVNamespaceListResult>;
}

interface EventsBinding {
  /** Publishes a JSON-serializable payload under `type`. */
  publish(type: string, payload?: unknown): Promise<{ id: string }>;
}

// ---------------------------------------------------------------------------
// Console, timers, misc globals
// ---------------------------------------------------------------------------

interface Console {
  /** printf-style: %s %d %i %f %j %o %O %c %% */
  log(...data: any[]): void;
  info(...data: any[]): void;
  debug(...data: any[]): void;
  warn(...data: any[]): void;
  error(...data: any[]): void;
  trace(...data: any[]): void;
  assert(condition?: boolean, ...data: any[]): void;
  dir(item?: any): void;
  count(label?: string): void;
  countReset(label?: string): void;
  time(label?: string): void;
  timeLog(label?: string, ...data: any[]): void;
  timeEnd(label?: string): void;
  group(...data: any[]): void;
  groupCollapsed(...data: any[]): void;
  groupEnd(): void;
}
declare var console: Console;

declare function setTimeout<A extends any[]>(callback: (...args: A) => void, ms?: number, ...args: A): number;
declare function setInterval<A extends any[]>(callback: (...args: A) => void, ms?: number, ...args: A): number;
declare function clearTimeout(id: number | undefined | null): void;
declare function clearInterval(id: number | undefined | null): void;
declare function queueMicrotask(callback: () => void): void;
declare function structuredClone<T>(value: T, options?: { transfer?: ArrayBuffer[] }): T;
declare function atob(data: string): string;
declare function btoa(data: string): string;
declare var self: typeof globalThis;

interface Performance {
  /** Milliseconds since the start of the current invocation (monotonic). */
  now(): number;
  /** Wall-clock time (ms since the UNIX epoch) at the start of the current invocation. */
  readonly timeOrigin: number;
  toJSON(): { timeOrigin: number };
}
declare var performance: Performance;

declare class DOMException extends Error {
  constructor(message?: string, name?: string);
  readonly name: string;
  readonly message: string;
  readonly code: number;
  static readonly INDEX_SIZE_ERR: 1; static readonly DOMSTRING_SIZE_ERR: 2; static readonly HIERARCHY_REQUEST_ERR: 3;
  static readonly WRONG_DOCUMENT_ERR: 4; static readonly INVALID_CHARACTER_ERR: 5; static readonly NO_DATA_ALLOWED_ERR: 6;
  static readonly NO_MODIFICATION_ALLOWED_ERR: 7; static readonly NOT_FOUND_ERR: 8; static readonly NOT_SUPPORTED_ERR: 9;
  static readonly INUSE_ATTRIBUTE_ERR: 10; static readonly INVALID_STATE_ERR: 11; static readonly SYNTAX_ERR: 12;
  static readonly INVALID_MODIFICATION_ERR: 13; static readonly NAMESPACE_ERR: 14; static readonly INVALID_ACCESS_ERR: 15;
  static readonly VALIDATION_ERR: 16; static readonly TYPE_MISMATCH_ERR: 17; static readonly SECURITY_ERR: 18;
  static readonly NETWORK_ERR: 19; static readonly ABORT_ERR: 20; static readonly URL_MISMATCH_ERR: 21;
  static readonly QUOTA_EXCEEDED_ERR: 22; static readonly TIMEOUT_ERR: 23; static readonly INVALID_NODE_TYPE_ERR: 24;
  static readonly DATA_CLONE_ERR: 25;
}

// ---------------------------------------------------------------------------
// Events and abort signals
// ---------------------------------------------------------------------------

interface EventInit {
  bubbles?: boolean;
  cancelable?: boolean;
  composed?: boolean;
}
declare class Event {
  constructor(type: string, init?: EventInit);
  readonly type: string;
  readonly bubbles: boolean;
  readonly cancelable: boolean;
  readonly composed: boolean;
  readonly defaultPrevented: boolean;
  readonly returnValue: boolean;
  readonly target: EventTarget | null;
  readonly currentTarget: EventTarget | null;
  readonly srcElement: EventTarget | null;
  readonly eventPhase: number;
  readonly timeStamp: number;
  readonly isTrusted: boolean;
  composedPath(): EventTarget[];
  preventDefault(): void;
  stopPropagation(): void;
  stopImmediatePropagation(): void;
}
type EventListenerOrEventListenerObject = ((event: Event) => void) | { handleEvent(event: Event): void };
interface AddEventListenerOptions {
  capture?: boolean;
  once?: boolean;
  signal?: AbortSignal;
}
declare class EventTarget {
  constructor();
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | { capture?: boolean }): void;
  /** Returns false if a listener called preventDefault() on a cancelable event. */
  dispatchEvent(event: Event): boolean;
}
declare class AbortSignal extends EventTarget {
  private constructor();
  readonly aborted: boolean;
  readonly reason: any;
  onabort: ((this: AbortSignal, event: Event) => any) | null;
  throwIfAborted(): void;
  /** A signal that is already aborted (reason defaults to an AbortError DOMException). */
  static abort(reason?: any): AbortSignal;
  /** A signal that aborts with a TimeoutError DOMException after `ms` milliseconds. */
  static timeout(ms: number): AbortSignal;
  /** A signal that aborts when any of `signals` does. */
  static any(signals: Iterable<AbortSignal>): AbortSignal;
}
declare class AbortController {
  constructor();
  readonly signal: AbortSignal;
  abort(reason?: any): void;
}

// ---------------------------------------------------------------------------
// Fetch API
// ---------------------------------------------------------------------------

type BufferSource = ArrayBuffer | ArrayBufferView;
/** ReadableStream, Blob and FormData bodies are not available in Quasm. */
type BodyInit = string | ArrayBuffer | ArrayBufferView | URLSearchParams | FormData | Blob | ReadableStream<Uint8Array>;
type HeadersInit = Headers | Record<string, string> | Iterable<readonly [string, string]>;
type RequestInfo = Request | string;
type RequestRedirect = 'follow' | 'error' | 'manual';

declare class Headers {
  constructor(init?: HeadersInit);
  append(name: string, value: string): void;
  delete(name: string): void;
  /** All values of `name` joined with ", ", or null. */
  get(name: string): string | null;
  getSetCookie(): string[];
  has(name: string): boolean;
  set(name: string, value: string): void;
  forEach(callback: (value: string, name: string, headers: Headers) => void, thisArg?: any): void;
  /** Lower-cased names in sorted order. */
  entries(): IterableIterator<[string, string]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<string>;
  [Symbol.iterator](): IterableIterator<[string, string]>;
}

interface Body {
  /** The body as a stream of bytes (the same stream on every read), or null when there is none. */
  readonly body: ReadableStream<Uint8Array> | null;
  readonly bodyUsed: boolean;
  arrayBuffer(): Promise<ArrayBuffer>;
  bytes(): Promise<Uint8Array>;
  text(): Promise<string>;
  json<T = any>(): Promise<T>;
  /** A Blob of the body, typed with the Content-Type header. */
  blob(): Promise<Blob>;
  /** Parses a multipart/form-data or application/x-www-form-urlencoded body (TypeError otherwise). */
  formData(): Promise<FormData>;
}

interface RequestInit {
  method?: string;
  headers?: HeadersInit;
  body?: BodyInit | null;
  redirect?: RequestRedirect;
  signal?: AbortSignal | null;
}
interface Request extends Body {}
declare class Request {
  constructor(input: RequestInfo | URL, init?: RequestInit);
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly redirect: RequestRedirect;
  readonly signal: AbortSignal;
  clone(): Request;
}

interface ResponseInit {
  status?: number;
  statusText?: string;
  headers?: HeadersInit;
}
interface Response extends Body {}
declare class Response {
  constructor(body?: BodyInit | null, init?: ResponseInit);
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly headers: Headers;
  readonly type: 'default' | 'error';
  readonly url: string;
  readonly redirected: boolean;
  clone(): Response;
  /** A JSON response (content-type: application/json). */
  static json(data: any, init?: ResponseInit): Response;
  static redirect(url: string | URL, status?: 301 | 302 | 303 | 307 | 308): Response;
  static error(): Response;
}

/**
 * Makes an HTTP request through the platform (counts towards the subrequest limit).
 * A stream body is read to the end before the request is sent.
 */
declare function fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;

// ---------------------------------------------------------------------------
// Service-worker syntax: `addEventListener("fetch", event => event.respondWith(...))`
// at the top level instead of a default export. Bindings (env) are globals.
// ---------------------------------------------------------------------------

declare class FetchEvent extends Event {
  private constructor();
  readonly request: Request;
  /** Call while the listener runs; the first listener that responds wins. */
  respondWith(response: Response | Promise<Response>): void;
  waitUntil(promise: unknown): void;
  /** Accepted for Workers compatibility; does nothing (there is no origin to fall back to). */
  passThroughOnException(): void;
}
interface ScheduledEventInit extends ScheduledEvent {}
declare class ScheduledController extends Event {
  private constructor();
  readonly cron: string;
  readonly scheduledTime: number;
  waitUntil(promise: unknown): void;
  /** Accepted for Workers compatibility; does nothing. */
  noRetry(): void;
}
declare function addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;
declare function addEventListener(type: 'scheduled', listener: (event: ScheduledController & ScheduledEvent) => void): void;
/** Other event types are accepted and never dispatched. */
declare function addEventListener(type: string, listener: (event: Event) => void): void;
declare function removeEventListener(type: string, listener: (event: any) => void): void;

// ---------------------------------------------------------------------------
// Blob, File, FormData
// ---------------------------------------------------------------------------

type BlobPart = string | ArrayBuffer | ArrayBufferView | Blob;
declare class Blob {
  constructor(parts?: Iterable<BlobPart>, options?: { type?: string });
  readonly size: number;
  /** Lower-cased; '' when not given or not printable ASCII. */
  readonly type: string;
  slice(start?: number, end?: number, contentType?: string): Blob;
  arrayBuffer(): Promise<ArrayBuffer>;
  bytes(): Promise<Uint8Array>;
  text(): Promise<string>;
  stream(): ReadableStream<Uint8Array>;
}
declare class File extends Blob {
  constructor(bits: Iterable<BlobPart>, name: string, options?: { type?: string; lastModified?: number });
  readonly name: string;
  readonly lastModified: number;
}
type FormDataEntryValue = string | File;
declare class FormData {
  /** No HTML forms in Quasm: only the empty constructor. */
  constructor();
  append(name: string, value: string | Blob): void;
  append(name: string, value: Blob, filename: string): void;
  set(name: string, value: string | Blob): void;
  set(name: string, value: Blob, filename: string): void;
  delete(name: string): void;
  get(name: string): FormDataEntryValue | null;
  getAll(name: string): FormDataEntryValue[];
  has(name: string): boolean;
  forEach(callback: (value: FormDataEntryValue, name: string, form: FormData) => void, thisArg?: any): void;
  entries(): IterableIterator<[string, FormDataEntryValue]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<FormDataEntryValue>;
  [Symbol.iterator](): IterableIterator<[string, FormDataEntryValue]>;
}

// ---------------------------------------------------------------------------
// Streams. No BYOB readers; a TransformStream's writable side never waits
// for its readable side to be read.
// ---------------------------------------------------------------------------

interface QueuingStrategy<T = any> {
  highWaterMark?: number;
  size?: (chunk: T) => number;
}
interface ReadableStreamReadResult<T> {
  done: boolean;
  value?: T;
}
declare class ReadableStreamDefaultController<R = any> {
  private constructor();
  readonly desiredSize: number | null;
  enqueue(chunk: R): void;
  close(): void;
  error(reason?: any): void;
}
interface UnderlyingSource<R = any> {
  type?: 'bytes';
  start?(controller: ReadableStreamDefaultController<R>): any;
  pull?(controller: ReadableStreamDefaultController<R>): void | PromiseLike<void>;
  cancel?(reason?: any): void | PromiseLike<void>;
}
interface StreamPipeOptions {
  preventClose?: boolean;
  preventAbort?: boolean;
  preventCancel?: boolean;
  signal?: AbortSignal;
}
declare class ReadableStream<R = any> {
  constructor(source?: UnderlyingSource<R>, strategy?: QueuingStrategy<R>);
  readonly locked: boolean;
  cancel(reason?: any): Promise<void>;
  getReader(): ReadableStreamDefaultReader<R>;
  pipeThrough<T>(transform: { writable: WritableStream<R>; readable: ReadableStream<T> }, options?: StreamPipeOptions): ReadableStream<T>;
  pipeTo(destination: WritableStream<R>, options?: StreamPipeOptions): Promise<void>;
  tee(): [ReadableStream<R>, ReadableStream<R>];
  values(options?: { preventCancel?: boolean }): AsyncIterableIterator<R>;
  [Symbol.asyncIterator](options?: { preventCancel?: boolean }): AsyncIterableIterator<R>;
  static from<T>(iterable: Iterable<T | PromiseLike<T>> | AsyncIterable<T>): ReadableStream<T>;
}
declare class ReadableStreamDefaultReader<R = any> {
  constructor(stream: ReadableStream<R>);
  readonly closed: Promise<void>;
  read(): Promise<ReadableStreamReadResult<R>>;
  cancel(reason?: any): Promise<void>;
  releaseLock(): void;
}
declare class WritableStreamDefaultController {
  private constructor();
  readonly signal: AbortSignal;
  error(reason?: any): void;
}
interface UnderlyingSink<W = any> {
  start?(controller: WritableStreamDefaultController): any;
  write?(chunk: W, controller: WritableStreamDefaultController): void | PromiseLike<void>;
  close?(): void | PromiseLike<void>;
  abort?(reason?: any): void | PromiseLike<void>;
}
declare class WritableStream<W = any> {
  constructor(sink?: UnderlyingSink<W>, strategy?: QueuingStrategy<W>);
  readonly locked: boolean;
  abort(reason?: any): Promise<void>;
  close(): Promise<void>;
  getWriter(): WritableStreamDefaultWriter<W>;
}
declare class WritableStreamDefaultWriter<W = any> {
  constructor(stream: WritableStream<W>);
  readonly closed: Promise<void>;
  readonly ready: Promise<void>;
  readonly desiredSize: number | null;
  write(chunk: W): Promise<void>;
  close(): Promise<void>;
  abort(reason?: any): Promise<void>;
  releaseLock(): void;
}
interface TransformStreamDefaultController<O = any> {
  readonly desiredSize: number | null;
  enqueue(chunk: O): void;
  error(reason?: any): void;
  terminate(): void;
}
interface Transformer<I = any, O = any> {
  start?(controller: TransformStreamDefaultController<O>): any;
  transform?(chunk: I, controller: TransformStreamDefaultController<O>): void | PromiseLike<void>;
  flush?(controller: TransformStreamDefaultController<O>): void | PromiseLike<void>;
  cancel?(reason?: any): void | PromiseLike<void>;
}
declare class TransformStream<I = any, O = any> {
  constructor(transformer?: Transformer<I, O>, writableStrategy?: QueuingStrategy<I>, readableStrategy?: QueuingStrategy<O>);
  readonly readable: ReadableStream<O>;
  readonly writable: WritableStream<I>;
}
declare class TextEncoderStream {
  readonly encoding: 'utf-8';
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<string>;
}
declare class TextDecoderStream {
  constructor(label?: string, options?: TextDecoderOptions);
  readonly encoding: 'utf-8';
  readonly fatal: boolean;
  readonly ignoreBOM: boolean;
  readonly readable: ReadableStream<string>;
  readonly writable: WritableStream<BufferSource>;
}
declare class CountQueuingStrategy {
  constructor(init: { highWaterMark: number });
  readonly highWaterMark: number;
  readonly size: (chunk?: any) => 1;
}
declare class ByteLengthQueuingStrategy {
  constructor(init: { highWaterMark: number });
  readonly highWaterMark: number;
  readonly size: (chunk: ArrayBufferView) => number;
}

// ---------------------------------------------------------------------------
// URL
// ---------------------------------------------------------------------------

declare class URL {
  constructor(url: string | URL, base?: string | URL);
  href: string;
  readonly origin: string;
  protocol: string;
  username: string;
  password: string;
  host: string;
  hostname: string;
  port: string;
  pathname: string;
  search: string;
  hash: string;
  /** Live view of the query: changes update `search` and vice versa. */
  readonly searchParams: URLSearchParams;
  toString(): string;
  toJSON(): string;
  static canParse(url: string | URL, base?: string | URL): boolean;
  /** Like the constructor, but returns null instead of throwing. */
  static parse(url: string | URL, base?: string | URL): URL | null;
}

declare class URLSearchParams {
  constructor(init?: string | Record<string, string> | Iterable<readonly [string, string]> | URLSearchParams);
  readonly size: number;
  append(name: string, value: string): void;
  delete(name: string, value?: string): void;
  get(name: string): string | null;
  getAll(name: string): string[];
  has(name: string, value?: string): boolean;
  set(name: string, value: string): void;
  sort(): void;
  forEach(callback: (value: string, name: string, params: URLSearchParams) => void, thisArg?: any): void;
  entries(): IterableIterator<[string, string]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<string>;
  [Symbol.iterator](): IterableIterator<[string, string]>;
  /** application/x-www-form-urlencoded serialization, without a leading "?". */
  toString(): string;
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

declare class TextEncoder {
  constructor();
  readonly encoding: 'utf-8';
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}

interface TextDecoderOptions {
  /** Throw a TypeError on invalid input instead of inserting U+FFFD. */
  fatal?: boolean;
  ignoreBOM?: boolean;
}
declare class TextDecoder {
  /** Only UTF-8 labels are supported (RangeError otherwise). */
  constructor(label?: string, options?: TextDecoderOptions);
  readonly encoding: 'utf-8';
  readonly fatal: boolean;
  readonly ignoreBOM: boolean;
  decode(input?: BufferSource, options?: { stream?: boolean }): string;
}

// ---------------------------------------------------------------------------
// Web Crypto (digest and HMAC)
// ---------------------------------------------------------------------------

type HashAlgorithmName = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';
type HashAlgorithmIdentifier = HashAlgorithmName | { name: HashAlgorithmName };
type KeyUsage = 'sign' | 'verify' | 'encrypt' | 'decrypt' | 'deriveBits' | 'deriveKey' | 'wrapKey' | 'unwrapKey';
type KeyFormat = 'raw' | 'pkcs8' | 'spki' | 'jwk';
type NamedCurve = 'P-256' | 'P-384';
interface JsonWebKey {
  kty?: string; alg?: string; crv?: string; ext?: boolean; key_ops?: string[];
  k?: string; n?: string; e?: string; d?: string; p?: string; q?: string; dp?: string; dq?: string; qi?: string; x?: string; y?: string;
}
/** Algorithm parameters, by name. Names are matched case-insensitively. */
type AlgorithmIdentifier =
  | 'HMAC' | 'AES-GCM' | 'AES-CBC' | 'PBKDF2' | 'HKDF' | 'RSASSA-PKCS1-v1_5' | 'RSA-PSS' | 'ECDSA' | 'ECDH' | 'Ed25519' | 'X25519'
  | { name: string; [param: string]: unknown };
interface HmacImportParams { name: 'HMAC'; hash: HashAlgorithmIdentifier; /** In bits (defaults to the key data's). */ length?: number }
interface AesKeyGenParams { name: 'AES-GCM' | 'AES-CBC'; length: 128 | 192 | 256 }
interface RsaHashedKeyGenParams { name: 'RSASSA-PKCS1-v1_5' | 'RSA-PSS'; /** 2048, 3072 or 4096 */ modulusLength: number; /** 65537 only */ publicExponent: Uint8Array; hash: HashAlgorithmIdentifier }
interface RsaHashedImportParams { name: 'RSASSA-PKCS1-v1_5' | 'RSA-PSS'; hash: HashAlgorithmIdentifier }
interface EcKeyParams { name: 'ECDSA' | 'ECDH'; namedCurve: NamedCurve }
/** ECDSA signs P-256 with SHA-256 and P-384 with SHA-384 (ES256, ES384). */
interface EcdsaParams { name: 'ECDSA'; hash: HashAlgorithmIdentifier }
/** The salt is as long as the hash (32 bytes for SHA-256, as PS256 uses). */
interface RsaPssParams { name: 'RSA-PSS'; saltLength: number }
/** A 12-byte iv; 128-bit tags. */
interface AesGcmParams { name: 'AES-GCM'; iv: BufferSource; additionalData?: BufferSource; tagLength?: 128 }
interface AesCbcParams { name: 'AES-CBC'; iv: BufferSource }
interface Pbkdf2Params { name: 'PBKDF2'; salt: BufferSource; iterations: number; hash: HashAlgorithmIdentifier }
interface HkdfParams { name: 'HKDF'; salt: BufferSource; info: BufferSource; hash: HashAlgorithmIdentifier }
interface EcdhKeyDeriveParams { name: 'ECDH' | 'X25519'; public: CryptoKey }
interface KeyAlgorithm {
  name: string;
  hash?: { name: HashAlgorithmName };
  length?: number;
  namedCurve?: NamedCurve;
  modulusLength?: number;
  publicExponent?: Uint8Array;
}
interface CryptoKeyPair { publicKey: CryptoKey; privateKey: CryptoKey }
type IntegerTypedArray =
  | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/** The key material stays inside the CryptoKey; only exportKey of an extractable key reveals it. */
declare class CryptoKey {
  private constructor();
  readonly type: 'secret' | 'private' | 'public';
  readonly extractable: boolean;
  readonly algorithm: KeyAlgorithm;
  readonly usages: KeyUsage[];
}

/** Computed by the host (aws-lc-rs). */
declare class SubtleCrypto {
  private constructor();
  digest(algorithm: HashAlgorithmIdentifier, data: BufferSource): Promise<ArrayBuffer>;
  generateKey(algorithm: RsaHashedKeyGenParams | EcKeyParams | { name: 'Ed25519' | 'X25519' } | 'Ed25519' | 'X25519', extractable: boolean, keyUsages: KeyUsage[]): Promise<CryptoKeyPair>;
  generateKey(algorithm: AesKeyGenParams | HmacImportParams, extractable: boolean, keyUsages: KeyUsage[]): Promise<CryptoKey>;
  importKey(format: 'jwk', keyData: JsonWebKey, algorithm: AlgorithmIdentifier | HmacImportParams | RsaHashedImportParams | EcKeyParams, extractable: boolean, keyUsages: KeyUsage[]): Promise<CryptoKey>;
  importKey(format: Exclude<KeyFormat, 'jwk'>, keyData: BufferSource, algorithm: AlgorithmIdentifier | HmacImportParams | RsaHashedImportParams | EcKeyParams, extractable: boolean, keyUsages: KeyUsage[]): Promise<CryptoKey>;
  exportKey(format: 'jwk', key: CryptoKey): Promise<JsonWebKey>;
  exportKey(format: Exclude<KeyFormat, 'jwk'>, key: CryptoKey): Promise<ArrayBuffer>;
  sign(algorithm: AlgorithmIdentifier | EcdsaParams | RsaPssParams, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>;
  verify(algorithm: AlgorithmIdentifier | EcdsaParams | RsaPssParams, key: CryptoKey, signature: BufferSource, data: BufferSource): Promise<boolean>;
  encrypt(algorithm: AesGcmParams | AesCbcParams, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>;
  decrypt(algorithm: AesGcmParams | AesCbcParams, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>;
  deriveBits(algorithm: Pbkdf2Params | HkdfParams | EcdhKeyDeriveParams, baseKey: CryptoKey, length?: number | null): Promise<ArrayBuffer>;
  deriveKey(algorithm: Pbkdf2Params | HkdfParams | EcdhKeyDeriveParams, baseKey: CryptoKey, derivedKeyType: AesKeyGenParams | HmacImportParams, extractable: boolean, keyUsages: KeyUsage[]): Promise<CryptoKey>;
  /** Workers' extension: constant-time comparison; RangeError if the lengths differ. */
  timingSafeEqual(a: BufferSource, b: BufferSource): boolean;
  /** @deprecated Not supported in Quasm: rejects with a NotSupportedError DOMException (exportKey + encrypt instead). */
  wrapKey(...args: unknown[]): Promise<never>;
  /** @deprecated Not supported in Quasm: rejects with a NotSupportedError DOMException (decrypt + importKey instead). */
  unwrapKey(...args: unknown[]): Promise<never>;
}

declare class Crypto {
  private constructor();
  readonly subtle: SubtleCrypto;
  /** Fills an integer typed array (at most 65536 bytes) with cryptographically secure random values. */
  getRandomValues<T extends IntegerTypedArray>(array: T): T;
  /** A random (version 4) UUID. */
  randomUUID(): `${string}-${string}-${string}-${string}-${string}`;
}
declare var crypto: Crypto;

// ---------------------------------------------------------------------------
// node:buffer (also importable as "buffer"): the subset Workers' nodejs_compat
// gives. Other node: modules fail to load with an error naming them.
// ---------------------------------------------------------------------------

declare module 'node:buffer' {
  type BufferEncoding = 'utf8' | 'utf-8' | 'hex' | 'base64' | 'base64url' | 'latin1' | 'binary' | 'ascii';
  class Buffer extends Uint8Array {
    static from(data: string, encoding?: BufferEncoding): Buffer;
    static from(data: ArrayBuffer, byteOffset?: number, length?: number): Buffer;
    static from(data: ArrayLike<number> | Iterable<number> | ArrayBufferView | { type: 'Buffer'; data: number[] }): Buffer;
    static alloc(size: number, fill?: string | number, encoding?: BufferEncoding): Buffer;
    static allocUnsafe(size: number): Buffer;
    static byteLength(value: string | ArrayBuffer | ArrayBufferView, encoding?: BufferEncoding): number;
    static concat(list: readonly Uint8Array[], totalLength?: number): Buffer;
    static compare(a: Uint8Array, b: Uint8Array): -1 | 0 | 1;
    static isBuffer(value: unknown): value is Buffer;
    static isEncoding(encoding: string): boolean;
    toString(encoding?: BufferEncoding, start?: number, end?: number): string;
    toJSON(): { type: 'Buffer'; data: number[] };
    equals(other: Uint8Array): boolean;
    compare(other: Uint8Array): -1 | 0 | 1;
    /** A view of the same memory, as in Node. */
    slice(start?: number, end?: number): Buffer;
    subarray(start?: number, end?: number): Buffer;
    fill(value: string | number, offset?: number, end?: number, encoding?: BufferEncoding): this;
    indexOf(value: string | number | Uint8Array, byteOffset?: number, encoding?: BufferEncoding): number;
    includes(value: string | number | Uint8Array, byteOffset?: number, encoding?: BufferEncoding): boolean;
  }
  const kMaxLength: number;
  const constants: { MAX_LENGTH: number; MAX_STRING_LENGTH: number };
  const atob: (data: string) => string;
  const btoa: (data: string) => string;
  const _Blob: typeof Blob;
  const _File: typeof File;
  export { Buffer, BufferEncoding, kMaxLength, constants, atob, btoa, _Blob as Blob, _File as File };
  const _default: { Buffer: typeof Buffer; Blob: typeof Blob; File: typeof File; atob: typeof atob; btoa: typeof btoa; kMaxLength: number; constants: typeof constants };
  export default _default;
}
declare module 'buffer' {
  export * from 'node:buffer';
  export { default } from 'node:buffer';
}
