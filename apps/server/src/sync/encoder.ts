import { type Encoder, jsonEncoder } from '@trpc/server/adapters/ws';

// One serialisation per change event, however many subscriptions of the user send it. The events of
// a shared page (SyncHub.sharedRead) are the same objects for every subscriber, and never changed:
// their JSON is made on the first send and reused. Every socket still gets its own message — the
// subscription id differs — but only that small envelope is serialised per socket.

/** Events that every subscriber of a user sends as they are (the shared pages'). */
const shareable = new WeakSet<object>();
/** Their JSON, made on first use; gone with the event. */
const serialised = new WeakMap<object, string>();

/** Marks events as sent unchanged by every subscriber: their JSON is made once. */
export function serialiseOnce<T extends object>(events: T[]): T[] {
  for (const event of events) shareable.add(event);
  return events;
}

/** Stands for the event in the envelope while it is serialised; never a seq (those are digits). */
const PLACEHOLDER = 'lifexp:event:6f1c0e2a';
const PLACEHOLDER_JSON = JSON.stringify(PLACEHOLDER);

interface DataMessage {
  result: { type: 'data'; id?: unknown; data: { id: unknown; data: object } };
}

/** A subscription's data message carrying a tracked, shareable event (as tRPC's adapter builds it). */
function sharedEventOf(message: unknown): object | undefined {
  const result = (message as Partial<DataMessage> | null)?.result;
  if (result?.type !== 'data') return undefined;
  const tracked = result.data;
  const event = typeof tracked === 'object' && tracked !== null ? tracked.data : undefined;
  return typeof event === 'object' && event !== null && shareable.has(event) ? event : undefined;
}

/**
 * tRPC's WebSocket encoder (JSON text frames, as its default), with the event of a data message
 * taken from its one serialisation. Any other message is JSON.stringify'd as before; the text sent
 * is the same either way.
 */
export const syncEncoder: Encoder = {
  encode(message: unknown): string {
    const event = sharedEventOf(message);
    if (!event) return JSON.stringify(message);
    let json = serialised.get(event);
    if (json === undefined) {
      json = JSON.stringify(event);
      serialised.set(event, json);
    }
    const { result } = message as DataMessage;
    const envelope = JSON.stringify({
      ...(message as object),
      result: { ...result, data: { ...result.data, data: PLACEHOLDER } },
    });
    // The event's place is the last string in the envelope that is exactly the placeholder: only the
    // tracked seq follows it, and the subscription id a client chose comes before it.
    const at = envelope.lastIndexOf(PLACEHOLDER_JSON);
    return envelope.slice(0, at) + json + envelope.slice(at + PLACEHOLDER_JSON.length);
  },
  decode: jsonEncoder.decode,
};
