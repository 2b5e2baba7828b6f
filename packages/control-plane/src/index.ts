// Public API of @skein/control-plane. Everything other packages may use is exported here by name.
export {};
