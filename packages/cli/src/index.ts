// Public API of @skein/cli. Everything other packages may use is exported here by name.
export {};
