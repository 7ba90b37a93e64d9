import { type Encoder, jsonEncoder } from '@trpc/server/adapters/ws';

// One serialisation per change event, however many subscriptions of the user send it. The events of
// a shared page (SyncHub.sharedRead) are the same objects for every subscriber, and never changed:
// their JSON is made on the first send and reused. Every socket still gets its own message — the
// subscription id differs — but only that small envelope is serialised per socket.

/**
 * Events that every subscriber of a user sends as they are (the shared pages'), with their JSON once
 * it is made (undefined before the first send); gone with the event.
 */
const serialised = new WeakMap<object, string | undefined>();

/** Marks events as sent unchanged by every subscriber: their JSON is made once. */
export function serialiseOnce<T extends object>(events: T[]): T[] {
  for (const event of events) if (!serialised.has(event)) serialised.set(event, undefined);
  return events;
}

interface DataMessage {
  id: number | string;
  jsonrpc?: string;
  result: { type: 'data'; data: { id: string; data: object }; id: string };
}

const keysOf = (value: object) => Object.keys(value).join(',');

/**
 * A subscription's data message carrying a tracked, shareable event, exactly as tRPC's adapter
 * builds it (these keys in this order, the ids numbers or strings); anything else is undefined.
 */
function sharedEventMessage(message: unknown): DataMessage | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { id, jsonrpc, result } = message as Partial<DataMessage>;
  if (result?.type !== 'data' || typeof result.id !== 'string') return undefined;
  const tracked = result.data;
  if (typeof tracked !== 'object' || tracked === null || typeof tracked.id !== 'string') return undefined;
  const event = tracked.data;
  if (typeof event !== 'object' || event === null || !serialised.has(event)) return undefined;
  if (typeof id !== 'number' && typeof id !== 'string') return undefined;
  if (jsonrpc !== undefined && typeof jsonrpc !== 'string') return undefined;
  const outer = keysOf(message);
  if (outer !== 'id,jsonrpc,result' && outer !== 'id,result') return undefined;
  if (keysOf(result) !== 'type,data,id' || keysOf(tracked) !== 'id,data') return undefined;
  return message as DataMessage;
}

/**
 * tRPC's WebSocket encoder (JSON text frames, as its default), with the event of a data message
 * taken from its one serialisation and the small envelope around it written out. Any other message
 * is JSON.stringify'd as before; the text sent is the same either way.
 */
export const syncEncoder: Encoder = {
  encode(message: unknown): string {
    const shared = sharedEventMessage(message);
    if (!shared) return JSON.stringify(message);
    const { id, jsonrpc, result } = shared;
    const event = result.data.data;
    let json = serialised.get(event);
    if (json === undefined) {
      json = JSON.stringify(event);
      serialised.set(event, json);
    }
    const rpc = jsonrpc === undefined ? '' : `,"jsonrpc":${JSON.stringify(jsonrpc)}`;
    return `{"id":${JSON.stringify(id)}${rpc},"result":{"type":"data","data":{"id":${JSON.stringify(result.data.id)},"data":${json}},"id":${JSON.stringify(result.id)}}}`;
  },
  decode: jsonEncoder.decode,
};
