// A header record's field set as an own data property. Only a field named `__proto__` needs it:
// assigning that name sets the record's prototype instead of adding a field.

/** Sets `record[name] = value` as an own, enumerable field, whatever the name. */
export function setOwnField(record: object, name: string, value: unknown): void {
  Object.defineProperty(record, name, { value, writable: true, enumerable: true, configurable: true });
}
