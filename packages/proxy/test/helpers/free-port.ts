// A free loopback port for listeners that xDS must name up front (see src/testing/free-port.ts).
export { freePort } from '../../src/testing/free-port.js';
