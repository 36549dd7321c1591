export { HaproxyClient, MAX_WEIGHT, type HaproxyClientOptions } from './client.js';
export { sendCommand, type SocketOptions } from './socket.js';
export { mapSocketError } from './socket-errors.js';
export { parseShowStat } from './stat.js';
export { parseWeightReply, expectEmptyReply, checkReply, type ReplyContext } from './reply.js';
export { checkName, serverRef, type NameField } from './names.js';
