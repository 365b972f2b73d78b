import type { Config } from '../config.ts';
import type { PostDigestDeps } from '../core/digest-posting.ts';
import { type ClientOverrides, PipelineClients } from '../deps.ts';

/*
 * The way in of the daily schedule: EventBridge Scheduler → handlers/daily-digest.ts → here. The
 * event (the schedule's input, `{}` or any JSON) is not read: the clock says which day it is.
 */

/** What posting the digest needs (core/digest-posting.ts), on the digest's budget. */
export async function dailyDigestDeps(config: Config, overrides?: ClientOverrides): Promise<PostDigestDeps> {
  const clients = new PipelineClients(config, 'daily-digest', overrides);
  return {
    config,
    store: await clients.approvalStore(),
    reader: await clients.reader(),
    // Products in other accounts are read there, through the role assumed there (docs/architecture.md).
    readerAt: (place) => clients.readerAt(place),
    digestMarkers: await clients.digestMarkers(),
    digestPublisher: await clients.digestPublisher(),
    clock: clients.clock,
    ids: clients.ids,
    log: clients.log,
  };
}
