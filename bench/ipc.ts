/**
 * Calls between two benchmark processes over Node's IPC channel (`fork`), either way: each side
 * answers the methods it serves and can call the other's. Values cross as JSON (fork's default).
 */

import type { Serializable } from 'node:child_process';

type Handlers = Record<string, (argument: never) => unknown>;

interface Channel {
  send?: ((message: Serializable) => boolean) | undefined;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
}

type Message =
  | { call: number; method: string; argument: unknown }
  | { answer: number; value: unknown }
  | { answer: number; error: string };

export interface Peer {
  call<T>(method: string, argument?: unknown): Promise<T>;
}

export function connect(channel: Channel, serve: Handlers): Peer {
  let next = 0;
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const send = (message: Message) => {
    if (!channel.send?.(message as Serializable)) throw new Error('The other benchmark process is gone');
  };
  channel.on('message', (raw) => {
    const message = raw as Message;
    if ('call' in message) {
      const handler = serve[message.method] as ((argument: unknown) => unknown) | undefined;
      Promise.resolve()
        .then(() => {
          if (!handler) throw new Error(`No method ${message.method}`);
          return handler(message.argument);
        })
        .then(
          (value) => send({ answer: message.call, value }),
          (error: unknown) => send({ answer: message.call, error: String(error) }),
        );
      return;
    }
    const pending = waiting.get(message.answer);
    if (!pending) return;
    waiting.delete(message.answer);
    if ('error' in message) pending.reject(new Error(message.error));
    else pending.resolve(message.value);
  });
  // A process that died answers nothing: its callers learn so instead of waiting forever.
  channel.on('disconnect', () => {
    for (const pending of waiting.values()) pending.reject(new Error('The other benchmark process is gone'));
    waiting.clear();
  });
  return {
    call: <T>(method: string, argument?: unknown) =>
      new Promise<T>((resolve, reject) => {
        next += 1;
        waiting.set(next, { resolve: resolve as (value: unknown) => void, reject });
        send({ call: next, method, argument });
      }),
  };
}
