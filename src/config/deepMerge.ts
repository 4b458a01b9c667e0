/** A plain JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Deep copy of a JSON-like value, so merged results never share arrays or objects with inputs. */
export function cloneJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => cloneJson(item)) as T;
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) setOwn(out, key, cloneJson(item));
    return out as T;
  }
  return value;
}

/**
 * Merges `layers` left to right into a fresh value: plain objects merge key by key, anything
 * else (arrays included) replaces what was there; `undefined` leaves the lower layer in place.
 * Unknown keys are kept, so that validation can reject them with their path.
 */
export function deepMerge(...layers: unknown[]): unknown {
  let result: unknown;
  for (const layer of layers) {
    if (layer === undefined) continue;
    result = mergeTwo(result, layer);
  }
  return result;
}

function mergeTwo(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return cloneJson(over);
  const out: Record<string, unknown> = cloneJson(base);
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    setOwn(out, key, Object.hasOwn(out, key) ? mergeTwo(out[key], value) : cloneJson(value));
  }
  return out;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // JSON.parse makes `__proto__` an own key; plain assignment would reach the prototype setter
  // instead, hiding the key from validation.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
