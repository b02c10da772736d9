/**
 * libphonenumber-js with its full metadata takes about 65 ms to load: loaded on the first number check rather
 * than at start-up, where every millisecond delays the client's `initialize`.
 */
import { createRequire } from 'node:module';

type PhoneLib = typeof import('libphonenumber-js/max');
let lib: PhoneLib | undefined;

export function phoneLib(): PhoneLib {
  lib ??= createRequire(import.meta.url)('libphonenumber-js/max') as PhoneLib;
  return lib;
}
