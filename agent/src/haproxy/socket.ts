import { connect } from 'node:net';
import { HaproxyTimeoutError, HaproxyUnexpectedReplyError, InvalidInputError } from '@fleetroll/shared';
import { excerpt } from './excerpt.js';
import { mapSocketError } from './socket-errors.js';

export interface SocketOptions {
  socketPath: string;
  /** Bounds the whole exchange (connect, command, full reply), not just idle gaps. */
  timeoutMs: number;
  /** Ends the sending side after the command: the master CLI answers a forwarded command only then. */
  halfClose?: boolean;
}

// Far above any real `show stat`, low enough that a runaway peer cannot exhaust memory.
const MAX_REPLY_BYTES = 64 * 1024 * 1024;

/**
 * HAProxy ends every answer with a newline, so a connection it closed without a byte is one it
 * took as it stopped (a restart): a reset, as a slot's patience counts it, not an empty answer
 * that a parser would call malformed and fail the slot over.
 */
function closedUnanswered(command: string, socketPath: string): HaproxyUnexpectedReplyError {
  return new HaproxyUnexpectedReplyError(
    `HAProxy closed the runtime socket ${socketPath} without answering ${excerpt(command)} (stopping?)`,
    { cause: Object.assign(new Error('closed without an answer'), { code: 'ECONNRESET' }) },
  );
}

/**
 * Sends one command and returns HAProxy's whole reply. One command per connection:
 * in non-interactive mode HAProxy closes the connection after answering, which is
 * what delimits the reply (there is no length or terminator to trust otherwise).
 */
export async function sendCommand(options: SocketOptions, command: string): Promise<string> {
  // Names are checked earlier; this catches a caller that builds a command some other way.
  if (/[\r\n;]/.test(command)) {
    throw new InvalidInputError(`refusing to send more than one HAProxy command: ${excerpt(command)}`);
  }
  const { socketPath, timeoutMs } = options;
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const socket = connect(socketPath);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => {
      fail(
        new HaproxyTimeoutError(
          `HAProxy did not answer ${excerpt(command)} on ${socketPath} within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);

    socket.once('connect', () =>
      options.halfClose ? socket.end(`${command}\n`) : socket.write(`${command}\n`),
    );
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REPLY_BYTES) {
        fail(
          new HaproxyUnexpectedReplyError(
            `HAProxy's reply to ${excerpt(command)} exceeded ${MAX_REPLY_BYTES} bytes`,
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    socket.once('end', () => {
      if (size === 0) {
        fail(closedUnanswered(command, socketPath));
        return;
      }
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => fail(mapSocketError(err, socketPath)));
  });
}
