/**
 * Emergency and crisis numbers, recognised in any common written form so they are refused before anything else.
 *
 * Why a hand-kept list: libphonenumber-js ships only Google's main metadata (full numbers and their types). The
 * short-number data (ShortNumberMetadata.xml, behind ShortNumberInfo.isEmergencyNumber) exists only in the
 * Java/C++ library and full ports such as google-libphonenumber, which this project does not depend on.
 * The list does not need to be exhaustive: every dial string of 2–6 digits is refused as a short code anyway.
 * This list decides that the refusal says "emergency" (never retry, in any form) rather than "short code".
 *
 * Sources:
 * - 3GPP TS 22.101, clause 10.1.1: every handset treats 112 and 911 as emergency numbers, and also 000, 08, 110,
 *   999, 118 and 119 when no SIM is present. These apply whatever the country.
 * - The <emergency> entries of libphonenumber resources/ShortNumberMetadata.xml and the national numbering
 *   notices it cites (ITU-T E.129), for the per-country lists below.
 */
import { phoneLib } from './phone-lib.js';

export const UNIVERSAL_EMERGENCY_NUMBERS: readonly string[] = ['112', '911', '000', '08', '110', '999', '118', '119'];

/** ISO 3166 alpha-2 → emergency and crisis numbers dialled in that country (besides the universal ones). */
export const EMERGENCY_NUMBERS_BY_COUNTRY: Readonly<Record<string, readonly string[]>> = {
  US: ['911', '112', '988'], // 988: Suicide & Crisis Lifeline
  CA: ['911', '112', '988'],
  MX: ['911', '060', '065', '066', '068', '080'],
  GB: ['999', '112'],
  IE: ['999', '112'],
  FR: ['15', '17', '18', '112', '114'], // SAMU, police, fire; 114 for deaf and hard-of-hearing callers
  DE: ['110', '112'],
  AT: ['112', '122', '133', '144'],
  CH: ['112', '117', '118', '144'],
  IT: ['112', '113', '115', '118'],
  ES: ['112', '061', '062', '080', '085', '088', '091', '092'],
  PT: ['112'],
  NL: ['112'],
  BE: ['100', '101', '112'],
  SE: ['112'],
  NO: ['110', '112', '113'],
  DK: ['112'],
  FI: ['112'],
  PL: ['112', '997', '998', '999'],
  CZ: ['112', '150', '155', '158'],
  GR: ['100', '112', '166', '199'],
  TR: ['110', '112', '155', '156'],
  RU: ['112', '101', '102', '103', '104', '01', '02', '03', '04'],
  UA: ['112', '101', '102', '103', '104'],
  IL: ['100', '101', '102', '112'],
  EG: ['122', '123', '180'],
  SA: ['112', '911', '997', '998', '999'],
  AE: ['112', '997', '998', '999'],
  ZA: ['112', '10111', '10177'],
  NG: ['112', '199'],
  KE: ['112', '911', '999'],
  IN: ['100', '101', '102', '108', '112', '1298', '2611'],
  PK: ['15', '112', '115', '1122'],
  BD: ['999'],
  CN: ['110', '112', '119', '120', '122'],
  HK: ['999', '112'],
  TW: ['110', '112', '119'],
  JP: ['110', '118', '119'],
  KR: ['112', '119'],
  SG: ['995', '999'],
  MY: ['112', '991', '994', '999'],
  TH: ['191', '199', '1669'],
  VN: ['113', '114', '115'],
  ID: ['110', '112', '113', '115', '118', '119'],
  PH: ['911', '112'],
  AU: ['000', '106', '112'], // 106: text relay for deaf callers
  NZ: ['111'],
  BR: ['190', '192', '193', '199'],
  AR: ['100', '101', '107', '911'],
  CL: ['131', '132', '133'],
  CO: ['112', '119', '123'],
  PE: ['105', '116', '117'],
};

const ANY_EMERGENCY = new Set<string>([
  ...UNIVERSAL_EMERGENCY_NUMBERS,
  ...Object.values(EMERGENCY_NUMBERS_BY_COUNTRY).flat(),
]);

/** Country calling code → emergency numbers of every country that shares it, plus the universal ones. */
let emergencyByCallingCode: ReadonlyMap<string, ReadonlySet<string>> | undefined;
function emergencyNumbersByCallingCode(): ReadonlyMap<string, ReadonlySet<string>> {
  emergencyByCallingCode ??= buildEmergencyByCallingCode();
  return emergencyByCallingCode;
}

function buildEmergencyByCallingCode(): ReadonlyMap<string, ReadonlySet<string>> {
  const { getCountries, getCountryCallingCode } = phoneLib();
  const map = new Map<string, Set<string>>();
  for (const country of getCountries()) {
    const callingCode = getCountryCallingCode(country);
    const numbers = map.get(callingCode) ?? new Set(UNIVERSAL_EMERGENCY_NUMBERS);
    for (const n of EMERGENCY_NUMBERS_BY_COUNTRY[country] ?? []) numbers.add(n);
    map.set(callingCode, numbers);
  }
  return map;
}

/** International dialling prefixes stripped before matching: '00' (ITU-recommended) and '011' (North America). */
const INTERNATIONAL_PREFIXES = ['00', '011'];
const DIAL_PREFIXES = ['9', '0', '1470', '141'];

/**
 * Returns the emergency number found (e.g. "911" or "+44 999"), or undefined.
 * `digits` holds only ASCII digits, with any '+' and formatting already removed.
 * Matches the digits alone ("911", "112", "15"), or a country calling code followed by an emergency number of
 * that country ("1911", "44999", "33 15"), with or without a leading international prefix ("00 44 999").
 */
export function findEmergencyNumber(digits: string): string | undefined {
  const candidates = [digits];
  for (const prefix of INTERNATIONAL_PREFIXES) {
    if (digits.length > prefix.length && digits.startsWith(prefix)) candidates.push(digits.slice(prefix.length));
  }
  // Dial strings short enough to be a prefix plus an emergency number: an outside-line digit ("9 911" on a PBX)
  // or the UK caller-id withholding codes 141 and 1470 ("141 999"). Full numbers are never this short.
  if (digits.length <= 8) {
    for (const prefix of DIAL_PREFIXES) {
      const rest = digits.slice(prefix.length);
      if (digits.startsWith(prefix) && ANY_EMERGENCY.has(rest)) return rest;
    }
  }
  for (const candidate of candidates) {
    if (ANY_EMERGENCY.has(candidate)) return candidate;
    for (let ccLength = 1; ccLength <= 3 && ccLength < candidate.length; ccLength++) {
      const callingCode = candidate.slice(0, ccLength);
      const rest = candidate.slice(ccLength);
      if (emergencyNumbersByCallingCode().get(callingCode)?.has(rest)) return `+${callingCode} ${rest}`;
    }
  }
  return undefined;
}
