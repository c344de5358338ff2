/* router/nflog.h: packets the kernel hands to an nflog group (nftables `log group N`), read
 * from a netlink socket of NETLINK_NETFILTER. The parser takes raw netlink bytes and gives the
 * flow of each logged packet (addresses, protocol, ports, interfaces) without I/O, so that it is
 * fuzzed and tested directly; the socket part binds a group and reads batches. Used by the
 * NetworkPolicy enforcer to say which flow was dropped. */
#ifndef MESH_ROUTER_NFLOG_H
#define MESH_ROUTER_NFLOG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MESH_NFLOG_PREFIX_MAX 64

struct mesh_nflog_pkt {
	int family;              /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} src, dst;
	uint8_t proto;           /* IPPROTO_*; ports are 0 for protocols without ports */
	uint16_t sport, dport;   /* host order */
	uint8_t icmp_type;       /* ICMP/ICMPv6 */
	uint32_t indev, outdev;  /* ifindex, 0 when absent */
	char prefix[MESH_NFLOG_PREFIX_MAX]; /* the rule's log prefix, "" when none */
};

/* Parses the netlink message at buf (len bytes available; its own length is in its header).
 * Returns 1 for a logged packet whose IP header could be read (pkt filled), 0 for any other
 * message (acks, errors, a packet of another family), -EBADMSG with *why for a malformed one.
 * *msg_len is set to the bytes the message takes (aligned), or 0 when nothing more can be
 * read from buf. */
int mesh_nflog_parse(const uint8_t *buf, size_t len, struct mesh_nflog_pkt *pkt, size_t *msg_len,
		     const char **why);

/* Builds the netlink request that binds (bind) or unbinds group to this socket, copying
 * copy_range bytes of each packet, into buf (cap bytes). Returns its length or -ENOSPC. */
int mesh_nflog_config_msg(uint8_t *buf, size_t cap, uint16_t group, bool bind, uint32_t copy_range,
			  uint32_t seq);

/* A non-blocking netlink socket bound to group, or a negative errno (err says why). */
int mesh_nflog_open(uint16_t group, char *err, size_t errlen);

/* Reads what is waiting on fd and calls fn for each logged packet; at most max_msgs messages.
 * Returns the number of packets given to fn, or a negative errno (-EAGAIN: nothing waiting).
 * Malformed messages are skipped and counted in *bad. */
int mesh_nflog_read(int fd, void (*fn)(void *arg, const struct mesh_nflog_pkt *pkt), void *arg,
		    unsigned max_msgs, uint64_t *bad);

/* A flow as one line: "tcp 10.32.0.2:41000 -> 10.32.0.5:80" (out: at least 112 bytes). */
void mesh_nflog_flow_format(const struct mesh_nflog_pkt *pkt, char *out, size_t cap);

#endif
