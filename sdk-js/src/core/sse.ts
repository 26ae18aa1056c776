// A server-sent events parser (the WHATWG "text/event-stream" rules) over a
// fetch body. EventSource cannot send an Authorization header, so the SDK
// reads the stream itself.

/** One dispatched event. */
export interface SseMessage {
  /** `event:` field; "message" when absent. */
  event: string;
  /** `data:` lines joined with "\n". */
  data: string;
  /** `id:` field of this event, when it had one. */
  id: string | undefined;
}

/**
 * Yields the events of `body` as they complete. Comments (`: keep-alive`)
 * and incomplete trailing events are dropped; `onChunk` is called for every
 * chunk read (the caller's idle watchdog).
 */
export async function* parseSse(body: ReadableStream<Uint8Array>, onChunk?: () => void): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let id: string | undefined;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      onChunk?.();
      buffer += decoder.decode(value, { stream: true });
      let start = 0;
      for (;;) {
        const end = lineEnd(buffer, start);
        if (end === -1) break;
        // The LF of a CR at the end may be in the next chunk: wait for it.
        if (buffer[end] === "\r" && end + 1 === buffer.length) break;
        const line = buffer.slice(start, end);
        // A CR LF pair is one line break.
        start = buffer[end] === "\r" && buffer[end + 1] === "\n" ? end + 2 : end + 1;
        if (line === "") {
          if (data.length > 0 || event !== "") {
            yield { event: event || "message", data: data.join("\n"), id };
          }
          event = "";
          data = [];
          id = undefined;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
        else if (field === "id" && !value.includes("\0")) id = value;
        // `retry:` and unknown fields are ignored: reconnection is the caller's.
      }
      buffer = buffer.slice(start);
    }
  } finally {
    // Stops the download when the consumer stops early.
    reader.cancel().catch(() => {});
  }
}

function lineEnd(s: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10 || c === 13) return i;
  }
  return -1;
}
