// What an analyzer reports: a stable code, a severity, the object, the message and a hint to fix it.

export type Severity = 'Error' | 'Warning' | 'Info';

export interface Finding {
  /** Stable code, e.g. SKN0201. Never reused for another meaning. */
  readonly code: string;
  readonly severity: Severity;
  /** "Kind namespace/name". */
  readonly object: string;
  /** Field path in the object, when the finding is about one field. */
  readonly path?: string;
  readonly message: string;
  readonly hint: string;
  /** File (and document index) the object came from. */
  readonly origin?: string;
}

/** The codes analyze can report, with their severity and meaning. */
export const codes = {
  SKN0001: { severity: 'Error', name: 'YamlError', meaning: 'a document is not valid YAML' },
  SKN0101: { severity: 'Error', name: 'SchemaError', meaning: 'a mesh object violates the API schema' },
  SKN0102: {
    severity: 'Warning',
    name: 'SchemaWarning',
    meaning: 'a mesh object is accepted but partly not acted on',
  },
  SKN0201: {
    severity: 'Error',
    name: 'UnknownSubset',
    meaning: 'a route names a subset no DestinationRule defines',
  },
  SKN0202: {
    severity: 'Error',
    name: 'UnknownHost',
    meaning: 'a route sends traffic to a host no service has',
  },
  SKN0203: {
    severity: 'Error',
    name: 'ConflictingVirtualServices',
    meaning: 'two VirtualServices claim one host',
  },
  SKN0204: {
    severity: 'Error',
    name: 'UnknownGateway',
    meaning: 'a VirtualService names a Gateway that does not exist',
  },
  SKN0205: {
    severity: 'Error',
    name: 'GatewaySelectsNothing',
    meaning: "a Gateway's selector matches no workload",
  },
  SKN0206: { severity: 'Error', name: 'UnknownCredential', meaning: 'a credentialName names no Secret' },
  SKN0207: {
    severity: 'Warning',
    name: 'UntranslatedLogFilter',
    meaning: 'a Telemetry access-log filter expression Skein cannot translate; every request is logged',
  },
  SKN0301: {
    severity: 'Warning',
    name: 'UnsupportedKind',
    meaning: 'a kind Skein accepts but does not support',
  },
} as const satisfies Record<string, { severity: Severity; name: string; meaning: string }>;

export type Code = keyof typeof codes;

export function finding(
  code: Code,
  object: string,
  message: string,
  hint: string,
  extra: { path?: string; origin?: string } = {},
): Finding {
  return { code, severity: codes[code].severity, object, message, hint, ...extra };
}
