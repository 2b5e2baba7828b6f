// Public API of @skein/agent. Everything other packages may use is exported here by name.
export {};
