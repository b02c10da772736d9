/**
 * Just enough of RFC 6455 for the load generator to serve listen sockets from pre-encoded bytes: the handshake
 * answer, server frames (never masked, so one encoded frame can go to every socket), and a reader of the client's
 * control frames (ping and close; the listener sends nothing else).
 */
import { createHash } from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
export const OPCODE_TEXT = 0x1;
export const OPCODE_BINARY = 0x2;
const OPCODE_CLOSE = 0x8;
const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;

/** The 101 answer to a WebSocket upgrade request with this Sec-WebSocket-Key. */
export function handshakeResponse(key: string): string {
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;
}

/** One final, unmasked frame: header and payload in one buffer. */
export function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const headerBytes = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerBytes + length);
  frame[0] = 0x80 | opcode;
  if (headerBytes === 2) {
    frame[1] = length;
  } else if (headerBytes === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(frame, headerBytes);
  return frame;
}

export function closeFrame(code: number): Buffer {
  const payload = Buffer.allocUnsafe(2);
  payload.writeUInt16BE(code, 0);
  return encodeFrame(OPCODE_CLOSE, payload);
}

/**
 * Reads the client's frames (masked) as they arrive: answers pings with pongs and reports a close frame. Data
 * frames are skipped unread.
 */
export class ClientFrameReader {
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly reply: (frame: Buffer) => void,
    private readonly onClose: () => void,
  ) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      const frame = this.next();
      if (!frame) return;
      if (frame.opcode === OPCODE_PING) this.reply(encodeFrame(OPCODE_PONG, frame.payload));
      else if (frame.opcode === OPCODE_CLOSE) this.onClose();
    }
  }

  private next(): { opcode: number; payload: Buffer } | undefined {
    const buffer = this.pending;
    if (buffer.length < 2) return undefined;
    const opcode = buffer[0] & 0x0f;
    const masked = (buffer[1] & 0x80) !== 0;
    let length = buffer[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buffer.length < 4) return undefined;
      length = buffer.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (buffer.length < 10) return undefined;
      length = Number(buffer.readBigUInt64BE(2));
      offset = 10;
    }
    const maskOffset = offset;
    if (masked) offset += 4;
    if (buffer.length < offset + length) return undefined;
    const payload = Buffer.from(buffer.subarray(offset, offset + length));
    if (masked) for (let i = 0; i < payload.length; i++) payload[i] ^= buffer[maskOffset + (i & 3)];
    this.pending = buffer.subarray(offset + length);
    return { opcode, payload };
  }
}
