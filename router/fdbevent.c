/* router/fdbevent.c: bounds-checked parsing of bridge FDB notifications (see fdbevent.h). */
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "router/fdbevent.h"

int mesh_fdb_event_parse(const uint8_t *buf, size_t len, struct mesh_fdb_event *ev,
			 size_t *msg_len, const char **why)
{
	struct nlmsghdr h;
	struct ndmsg ndm;
	*msg_len = 0;
	if (len < sizeof(h)) {
		*why = "netlink message shorter than its header";
		return -EBADMSG;
	}
	memcpy(&h, buf, sizeof(h));
	if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len) {
		*why = "netlink message length outside the buffer";
		return -EBADMSG;
	}
	size_t aligned = NLMSG_ALIGN(h.nlmsg_len);
	*msg_len = aligned < len ? aligned : len;
	if (h.nlmsg_type != RTM_NEWNEIGH && h.nlmsg_type != RTM_DELNEIGH)
		return 0;
	size_t off = NLMSG_HDRLEN;
	if (h.nlmsg_len < off + sizeof(ndm)) {
		*why = "neighbour message shorter than struct ndmsg";
		return -EBADMSG;
	}
	memcpy(&ndm, buf + off, sizeof(ndm));
	if (ndm.ndm_family != AF_BRIDGE)
		return 0;
	memset(ev, 0, sizeof(*ev));
	ev->added = h.nlmsg_type == RTM_NEWNEIGH;
	ev->ifindex = ndm.ndm_ifindex;
	ev->state = ndm.ndm_state;
	ev->flags = ndm.ndm_flags;
	bool have_mac = false;
	off += NLMSG_ALIGN(sizeof(ndm));
	while (off + sizeof(struct rtattr) <= h.nlmsg_len) {
		struct rtattr a;
		memcpy(&a, buf + off, sizeof(a));
		if (a.rta_len < sizeof(a) || a.rta_len > h.nlmsg_len - off) {
			*why = "neighbour attribute length outside the message";
			return -EBADMSG;
		}
		const uint8_t *val = buf + off + RTA_LENGTH(0);
		size_t vlen = a.rta_len - RTA_LENGTH(0);
		if (a.rta_type == NDA_LLADDR) {
			if (vlen != 6) {
				*why = "bridge FDB entry with a link address that is not 6 bytes";
				return -EBADMSG;
			}
			memcpy(ev->mac, val, 6);
			have_mac = true;
		} else if (a.rta_type == NDA_MASTER) {
			if (vlen != 4) {
				*why = "NDA_MASTER that is not 4 bytes";
				return -EBADMSG;
			}
			uint32_t m;
			memcpy(&m, val, 4);
			ev->master = (int)m;
		}
		off += RTA_ALIGN(a.rta_len);
	}
	if (!have_mac) {
		*why = "bridge FDB entry without a MAC address";
		return -EBADMSG;
	}
	return 1;
}
