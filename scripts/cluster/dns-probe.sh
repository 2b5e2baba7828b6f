#!/usr/bin/env bash
# dns-probe.sh NODE-CONTAINER SERVER NAME: asks SERVER (a ClusterIP, reachable from the node)
# for NAME's A record over DNS-over-TCP, from inside the kind node, using only bash's /dev/tcp
# (the stock node image has no dig). Succeeds when the answer has RCODE 0 and >= 1 record.
set -euo pipefail
node="$1" server="$2" name="$3"
docker exec -i "$node" bash -s "$server" "$name" <<'PROBE'
set -euo pipefail
server="$1" name="$2"
q='\x53\x4b\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00'   # id, RD, 1 question
IFS=. read -ra labels <<< "$name"
for l in "${labels[@]}"; do q+="$(printf '\\x%02x' "${#l}")$l"; done
q+='\x00\x00\x01\x00\x01'                                # root, type A, class IN
len=$(printf "$q" | wc -c)
for attempt in $(seq 30); do
  if { exec 3<>"/dev/tcp/$server/53"; } 2>/dev/null; then
    { printf "\\x$(printf %02x $((len >> 8)))\\x$(printf %02x $((len & 255)))"; printf "$q"; } >&3
    hdr=$(timeout 5 head -c 14 <&3 | od -An -tu1 | tr -s ' ' | sed 's/^ //') || hdr=""
    exec 3<&- || true
    read -r _ _ _ _ _ f2 _ _ an1 an2 _ <<< "$hdr" || true
    if [[ -n ${an2:-} ]] && (( (f2 & 15) == 0 && (an1 * 256 + an2) > 0 )); then
      echo "dns-probe: $name answered by $server ($((an1 * 256 + an2)) record(s))" >&2
      exit 0
    fi
  fi
  sleep 2
done
echo "dns-probe: no answer for $name from $server" >&2
exit 1
PROBE
