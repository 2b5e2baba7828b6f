// Public API of @skein/ca. Everything other packages may use is exported here by name.
export {};
