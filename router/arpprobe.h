/* router/arpprobe.h: ARP probes (RFC 5227) as bytes: the probe meshd sends on its bridge to
 * learn whether an address is in use, and the parse of what comes back. Pure: no I/O. The
 * bytes are the ARP payload of an Ethernet frame (a packet socket of type SOCK_DGRAM adds and
 * strips the Ethernet header). Addresses are IPv4 in host byte order. */
#ifndef MESH_ROUTER_ARPPROBE_H
#define MESH_ROUTER_ARPPROBE_H

#include <stddef.h>
#include <stdint.h>

#define MESH_ARP_LEN 28

/* An ARP request "who has target? tell 0.0.0.0" from sender_mac. Returns MESH_ARP_LEN. */
size_t mesh_arp_probe_build(uint8_t out[MESH_ARP_LEN], const uint8_t sender_mac[6], uint32_t target);

/* Whether an ARP packet shows a host holding an address: a request or a reply for Ethernet and
 * IPv4 whose sender address is set (a reply to a probe, a host's own probe answered or an
 * announcement). Returns 1 with *ip and mac set, 0 for ARP that claims nothing (a probe, another
 * hardware or protocol type), -EBADMSG for fewer bytes than an ARP packet. */
int mesh_arp_claim_parse(const uint8_t *p, size_t len, uint32_t *ip, uint8_t mac[6]);

#endif
