/* include/mesh/addr.h: a peer's underlay address of either family (issue 18): what the command
 * line, the API, meshctl and the topology gossip name a peer by. Pure functions (gossip/addr.c):
 * parsing, formatting and the conversions to and from socket addresses, no I/O.
 *
 * Accepted forms: `1.2.3.4`, `1.2.3.4:6783`, `[2001:db8::a]`, `[2001:db8::a]:6783` and a bare
 * `2001:db8::a` (no port then: a bare IPv6 address cannot carry one). An IPv4-mapped IPv6
 * address (`::ffff:1.2.3.4`) is taken as the IPv4 address it maps, so that a peer reached over a
 * dual-stack socket is shown and compared as plain IPv4 everywhere. */
#ifndef MESH_ADDR_H
#define MESH_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* "[" + the longest IPv6 text (45) + "]:" + "65535" + NUL */
#define MESH_ADDR_STRLEN 56

struct mesh_addr {
	uint8_t family;   /* AF_INET or AF_INET6 (0: none) */
	uint8_t a[16];    /* IPv4: the first 4 bytes, network order; the rest zero */
	uint16_t port;    /* host byte order; 0: none given */
};

/* Parses one of the forms above; a missing port becomes default_port. 0, or -EINVAL with *why
 * saying what is wrong (empty, not an address, bad port, unbalanced brackets, ...). */
int mesh_addr_parse(const char *s, uint16_t default_port, struct mesh_addr *out, const char **why);
/* "1.2.3.4:6783" or "[2001:db8::a]:6783" (without ":port" when port is 0). The length written
 * (out always NUL-terminated; cap >= MESH_ADDR_STRLEN never truncates). */
size_t mesh_addr_format(const struct mesh_addr *a, char *out, size_t cap);
/* The address alone, without brackets: "1.2.3.4", "2001:db8::a". */
size_t mesh_addr_format_host(const struct mesh_addr *a, char *out, size_t cap);

/* From a socket address (mapped IPv4 becomes IPv4). 0, or -EAFNOSUPPORT. */
int mesh_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct mesh_addr *out);
/* To a socket address of family `sock_family` (AF_INET6 writes an IPv4 address mapped, for a
 * dual-stack socket). The length, or 0 when an IPv6 address cannot go to an AF_INET socket. */
socklen_t mesh_addr_to_sockaddr(const struct mesh_addr *a, int sock_family,
				struct sockaddr_storage *out);

/* An IPv4 address (network order) with a port. */
void mesh_addr_from_ipv4(uint32_t ip_be, uint16_t port, struct mesh_addr *out);
/* Same family, address and port. */
bool mesh_addr_eq(const struct mesh_addr *x, const struct mesh_addr *y);
/* Same family and address, the port aside. */
bool mesh_addr_same_host(const struct mesh_addr *x, const struct mesh_addr *y);
/* The IPv4 address (network order), or 0 for IPv6 and none. */
uint32_t mesh_addr_ipv4(const struct mesh_addr *a);
/* No family, or the all-zero address of its family. */
bool mesh_addr_is_unspecified(const struct mesh_addr *a);
/* Whether a TCP connection can be dialled to it without more context: not unspecified, not
 * multicast or broadcast, not IPv6 link-local (which needs an interface this type does not
 * carry). What discovery dials, of the addresses gossip names. */
bool mesh_addr_dialable(const struct mesh_addr *a);

#endif
