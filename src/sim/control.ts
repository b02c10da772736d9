/** Parsing of bodies POSTed to a call's control URL into the commands a simulated call understands. */
import { badRequest } from './errors.js';
import { isObject, type JsonObject } from './validate.js';

export const CONTROL_TYPES = ['say', 'add-message', 'control', 'end-call', 'transfer', 'handoff', 'send-transport-message'];
export const CONTROL_ACTIONS = ['mute-assistant', 'unmute-assistant', 'mute-customer', 'unmute-customer', 'say-first-message'] as const;
export type ControlAction = (typeof CONTROL_ACTIONS)[number];
const MESSAGE_ROLES = ['assistant', 'function', 'user', 'system', 'tool'];

export type ControlCommand =
  | { type: 'say'; content: string; endCallAfterSpoken: boolean; interruptAssistantEnabled: boolean }
  | { type: 'add-message'; role: string; content: string; triggerResponseEnabled: boolean }
  | { type: 'control'; control: ControlAction }
  | { type: 'end-call' }
  | { type: 'transfer'; destination: JsonObject; content?: string }
  | { type: 'handoff'; destination: JsonObject; content?: string }
  | { type: 'send-transport-message' };

export function parseControl(body: unknown): ControlCommand {
  if (!isObject(body)) throw badRequest(['body must be a JSON object']);
  switch (body.type) {
    case 'say': {
      // `message` is the field name of docs before 2025-03-16, still common in the wild.
      const content = body.content ?? body.message;
      if (typeof content !== 'string' || content.trim() === '') throw badRequest(['content must be a non-empty string']);
      return {
        type: 'say',
        content,
        endCallAfterSpoken: body.endCallAfterSpoken === true,
        interruptAssistantEnabled: body.interruptAssistantEnabled === true,
      };
    }
    case 'add-message': {
      const message = body.message;
      if (!isObject(message)) throw badRequest(['message must be an object']);
      const problems: string[] = [];
      if (typeof message.role !== 'string' || !MESSAGE_ROLES.includes(message.role)) {
        problems.push(`message.role must be one of the following values: ${MESSAGE_ROLES.join(', ')}`);
      }
      if (typeof message.content !== 'string') problems.push('message.content must be a string');
      if (body.triggerResponseEnabled !== undefined && typeof body.triggerResponseEnabled !== 'boolean') {
        problems.push('triggerResponseEnabled must be a boolean value');
      }
      if (problems.length > 0) throw badRequest(problems);
      return {
        type: 'add-message',
        role: message.role as string,
        content: message.content as string,
        triggerResponseEnabled: body.triggerResponseEnabled !== false,
      };
    }
    case 'control': {
      const control = body.control;
      if (typeof control !== 'string' || !(CONTROL_ACTIONS as readonly string[]).includes(control)) {
        throw badRequest([`control must be one of the following values: ${CONTROL_ACTIONS.join(', ')}`]);
      }
      return { type: 'control', control: control as ControlAction };
    }
    case 'end-call':
      return { type: 'end-call' };
    case 'transfer': {
      const destination = body.destination;
      const problems = optionalString(body, 'content');
      if (!isObject(destination)) problems.push('destination must be an object');
      else if (destination.type === 'number') {
        if (typeof destination.number !== 'string' || destination.number === '') {
          problems.push('destination.number must be a string');
        }
      } else if (destination.type === 'sip') {
        if (typeof destination.sipUri !== 'string' || destination.sipUri === '') {
          problems.push('destination.sipUri must be a string');
        }
      } else problems.push('destination.type must be one of the following values: number, sip');
      if (problems.length > 0) throw badRequest(problems);
      return { type: 'transfer', destination: destination as JsonObject, content: body.content as string | undefined };
    }
    case 'handoff': {
      const destination = body.destination;
      const problems = optionalString(body, 'content');
      if (!isObject(destination) || destination.type !== 'assistant') {
        problems.push('destination.type must be one of the following values: assistant');
      }
      if (problems.length > 0) throw badRequest(problems);
      return { type: 'handoff', destination: destination as JsonObject, content: body.content as string | undefined };
    }
    case 'send-transport-message':
      if (!isObject(body.message)) throw badRequest(['message must be an object']);
      return { type: 'send-transport-message' };
    default:
      throw badRequest([`type must be one of the following values: ${CONTROL_TYPES.join(', ')}`]);
  }
}

function optionalString(body: JsonObject, key: string): string[] {
  return body[key] !== undefined && typeof body[key] !== 'string' ? [`${key} must be a string`] : [];
}
