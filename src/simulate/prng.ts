/**
 * A small seeded PRNG (mulberry32) with the helpers the scenario stories need. Every random choice
 * in the simulator goes through one of these, so a seed reproduces a scenario byte for byte.
 */

/** base32 digits as `Math.random().toString(32)` yields them: what JsSIP and SIP.js tokens use */
export const BASE32 = '0123456789abcdefghijklmnopqrstuv';
const HEX = '0123456789abcdef';
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Folds numbers (seed, user index, a label) into one 32-bit seed. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    const low = part >>> 0;
    const high = Math.floor(part / 0x100000000) >>> 0;
    for (const word of [low, high]) {
      h ^= word;
      h = Math.imul(h, 0x01000193);
      h ^= h >>> 15;
      h = Math.imul(h, 0x85ebca6b);
      h ^= h >>> 13;
    }
  }
  return h >>> 0;
}

export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** uniform in [0, 1) */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** integer in [min, max] */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** real number in [min, max) */
  between(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** a key drawn with probability proportional to its weight (weights need not sum to 1) */
  weighted<K extends string>(weights: Readonly<Partial<Record<K, number>>>): K {
    const entries = Object.entries(weights) as [K, number][];
    const positive = entries.filter(([, w]) => w > 0);
    if (positive.length === 0) throw new Error('weighted(): no positive weight');
    const total = positive.reduce((sum, [, w]) => sum + w, 0);
    let roll = this.next() * total;
    for (const [key, weight] of positive) {
      roll -= weight;
      if (roll < 0) return key;
    }
    return positive[positive.length - 1][0];
  }

  token(length: number, alphabet: string = BASE32): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }

  hex(length: number): string {
    return this.token(length, HEX);
  }

  base64(length: number): string {
    return this.token(length, BASE64);
  }

  digits(length: number): string {
    return this.token(length, '0123456789');
  }

  uuid(): string {
    const variant = '89ab'[this.int(0, 3)];
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${variant}${this.hex(3)}-${this.hex(12)}`;
  }

  /** an ephemeral TCP port in Linux's default range (net.ipv4.ip_local_port_range) */
  ephemeralPort(): number {
    return this.int(EPHEMERAL_FIRST, EPHEMERAL_LAST);
  }
}

export const EPHEMERAL_FIRST = 32768;
export const EPHEMERAL_LAST = 60999;
