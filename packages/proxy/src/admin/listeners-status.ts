// /listeners as Envoy's admin prints it: one `name::address` line per listener (the address it is
// bound to: a port 0 shows the port the kernel gave), or with `?format=json` the admin.v3.Listeners
// message with proto field names (`listener_statuses[].name` and `local_address`).
import { formatNetAddress, type NetAddress } from '../util/address.js';

export interface ListenerStatus {
  name: string;
  address: NetAddress;
}

export function listenersText(list: readonly ListenerStatus[]): string {
  return list.map((l) => `${l.name}::${formatNetAddress(l.address)}\n`).join('');
}

export function listenersJson(list: readonly ListenerStatus[]): unknown {
  return {
    listener_statuses: list.map((l) => ({
      name: l.name,
      local_address:
        l.address.kind === 'pipe'
          ? { pipe: { path: l.address.path } }
          : { socket_address: { address: l.address.host, port_value: l.address.port } },
    })),
  };
}
