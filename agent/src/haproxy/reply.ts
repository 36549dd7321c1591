import {
  HaproxyPermissionError,
  HaproxyUnexpectedReplyError,
  HaproxyUnknownServerError,
  type FleetrollError,
} from '@fleetroll/shared';
import { excerpt } from './excerpt.js';

/** What a command was about, so that an error can name it. */
export interface ReplyContext {
  command: string;
  socketPath: string;
  backend?: string;
  server?: string;
}

/** HAProxy ends every answer with an empty line; the meaning is in what precedes it. */
export function replyText(reply: string): string {
  return reply.replace(/\s+$/, '');
}

/**
 * The error HAProxy 2.6 answered with, if the reply is one of the known refusals.
 * Texts as observed on the runtime socket, first line only.
 */
function knownRefusal(text: string, ctx: ReplyContext): FleetrollError | null {
  const firstLine = text.split('\n', 1)[0] ?? '';
  switch (firstLine) {
    case 'No such server.':
      return new HaproxyUnknownServerError(
        `HAProxy has no server ${excerpt(ctx.server ?? '')} in backend ${excerpt(ctx.backend ?? '')}`,
      );
    // `get/set weight` say backend, `show stat <proxy>` says proxy.
    case 'No such backend.':
    case 'No such proxy.':
      return new HaproxyUnknownServerError(`HAProxy has no backend ${excerpt(ctx.backend ?? '')}`);
    case 'Permission denied':
      return new HaproxyPermissionError(
        `HAProxy refused ${excerpt(ctx.command)} on ${ctx.socketPath}: the socket must be declared ` +
          'with `stats socket ... level admin` for the agent to change weights',
      );
    default:
      return null;
  }
}

export function unexpectedReply(what: string, reply: string, ctx: ReplyContext): HaproxyUnexpectedReplyError {
  return new HaproxyUnexpectedReplyError(
    `unexpected reply to ${excerpt(ctx.command)} on ${ctx.socketPath} (${what}): ${excerpt(replyText(reply))}`,
  );
}

/** Throws for a known refusal; otherwise returns the reply's text for the caller to parse. */
export function checkReply(reply: string, ctx: ReplyContext): string {
  const text = replyText(reply);
  const refusal = knownRefusal(text, ctx);
  if (refusal) throw refusal;
  return text;
}

// `get weight` answers "<current> (initial <configured>)", e.g. "37 (initial 100)".
const WEIGHT_REPLY = /^(\d{1,3}) \(initial \d{1,3}\)$/;

export function parseWeightReply(reply: string, ctx: ReplyContext): number {
  const match = WEIGHT_REPLY.exec(checkReply(reply, ctx));
  if (!match?.[1]) throw unexpectedReply('expected "<weight> (initial <weight>)"', reply, ctx);
  return Number(match[1]);
}

/** `set weight` and similar commands answer nothing at all when they succeed. */
export function expectEmptyReply(reply: string, ctx: ReplyContext): void {
  if (checkReply(reply, ctx) !== '') throw unexpectedReply('expected an empty reply', reply, ctx);
}
