// Public API of @skein/proxy. Everything other packages may use is exported here by name.
export {};
