// The identity skeind's TLS xDS port verified for a stream (security/xds-gate.ts), carried on the
// request message it let through: kept in a WeakMap, so nothing a client sends can set it.
const verified = new WeakMap<object, string>();

export function markVerified(message: object, identity: string): void {
  verified.set(message, identity);
}

/** The verified SPIFFE identity behind this request, if it came through the TLS port's gate. */
export function verifiedIdentityOf(message: object): string | undefined {
  return verified.get(message);
}
