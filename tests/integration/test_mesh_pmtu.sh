#!/usr/bin/env bash
# test_mesh_pmtu: the sleeve discovers each connection's path MTU. h3's underlay link carries
# only 1400-byte packets (both ends of its veth); within 30 s the connections to h3 report the
# container MTU that fits (1400 - IPv4 20 - UDP 8 - sleeve 16 - record 24 - Ethernet 14 =
# 1318), the others keep 1402, every bridge offers 1318 to new containers, and a 1300-byte
# ping (which fits) crosses from c1 to c3 with DF set. A container mesh-cni attaches on h1 then
# gets exactly 1318: its largest DF ping to c3 (1290 bytes of payload) crosses, and one byte
# more fails (so a wrong MTU fails this test, not only a broken path).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
# shellcheck source=cni_lib.sh
source "$(dirname "$0")/cni_lib.sh"
lab_fresh

lab up 3
ip -n "$LAB_NAME-u" link set h3 mtu 1400
ip -n "$LAB_NAME-h3" link set underlay mtu 1400

conn_mtu() { # conn_mtu h<i> NICK
	jget "$1" ".connections[] | select(.nickname == \"$2\" and .state == \"established\") | .mtu"
}
settled() {
	[[ $(conn_mtu h1 h3) == 1318 && $(conn_mtu h3 h1) == 1318 && $(conn_mtu h2 h3) == 1318 &&
		$(jget h1 .mtu) == 1318 && $(jget h3 .mtu) == 1318 ]]
}
# Connections made before the MTU dropped searched already: reconnect h3 to search again.
lab kill h3
lab start h3
info "waiting for the path MTU to h3 to be found"
wait_until 30 settled || die "path MTU not found within 30 s: h1 sees $(status_json h1 | jq -c '[.mtu, [.connections[] | {nickname, mtu}]]'), h3 sees $(status_json h3 | jq -c '[.mtu, [.connections[] | {nickname, mtu}]]')"
[[ $(conn_mtu h1 h2) == 1402 ]] || die "h1 -> h2 should keep MTU 1402, has $(conn_mtu h1 h2)"
info "connections to h3: 1318, h1 -> h2: 1402, bridges offer 1318"
grep -q "path MTU verified" < <(lab logs h1) || die "h1's log does not say the path MTU was verified"
wait_ping h1 10.32.0.3 10
lab cexec h1 ping -c2 -W2 -M do -s 1300 10.32.0.3 || die "a 1300-byte DF ping from c1 to c3 did not cross"

# A new container on h1, attached by mesh-cni: the MTU meshd offers now, exactly.
NS=$LAB_NAME-pmtu
ip netns add "$NS"
on_exit "ip netns del $NS 2>/dev/null"
conf="{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\",\"socket\":\"$LAB_RUN/h1/meshd.sock\"}"
lab exec h1 env CNI_COMMAND=ADD CNI_CONTAINERID=pmtu1 CNI_NETNS="/run/netns/$NS" CNI_IFNAME=eth0 \
	CNI_PATH=/usr/lib/cni "$CNI_BIN" <<<"$conf" >"$TEST_TMP/add.json" ||
	die "mesh-cni ADD on h1 failed: $(cat "$TEST_TMP/add.json")"
mtu=$(ip -n "$NS" -o link show eth0 | grep -oE 'mtu [0-9]+' | cut -d' ' -f2)
[[ $mtu == 1318 ]] || die "mesh-cni gave the new container MTU $mtu, not 1318"
ip netns exec "$NS" ping -c2 -W2 -M do -s 1290 10.32.0.3 >/dev/null ||
	die "a 1290-byte DF ping (a full 1318-byte packet) from the new container to c3 did not cross"
if ip netns exec "$NS" ping -c1 -W2 -M do -s 1291 10.32.0.3 >"$TEST_TMP/big" 2>&1; then
	die "a 1291-byte DF ping (one byte over the MTU) from the new container crossed: $(cat "$TEST_TMP/big")"
fi
info "the new container has MTU 1318: 1290-byte DF pings cross, 1291 bytes do not ($(grep -oiE 'message too long.*|mtu.*' "$TEST_TMP/big" | head -n 1))"
lab exec h1 env CNI_COMMAND=DEL CNI_CONTAINERID=pmtu1 CNI_NETNS="/run/netns/$NS" CNI_IFNAME=eth0 \
	CNI_PATH=/usr/lib/cni "$CNI_BIN" <<<"$conf" >/dev/null || die "mesh-cni DEL failed"
