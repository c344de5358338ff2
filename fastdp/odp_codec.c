/* fastdp/odp_codec.c: OVS datapath generic-netlink messages (see odp_codec.h). Requests are
 * built with libnl's message helpers; replies are walked by hand, attribute by attribute, so
 * that every refusal can say exactly what was wrong. */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/openvswitch.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fastdp/odp_codec.h"

#define GENL_HDR (NLMSG_HDRLEN + GENL_HDRLEN)
#define OVS_HDR_LEN ((size_t)NLA_ALIGN(sizeof(struct ovs_header)))

/* --- building ------------------------------------------------------------------------- */

static int put_header(struct nl_msg *m, int family, uint8_t cmd, int flags, uint8_t version,
		      int dp_ifindex)
{
	struct ovs_header *oh = genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, family,
					    sizeof(struct ovs_header), flags, cmd, version);
	if (!oh)
		return -ENOMEM;
	oh->dp_ifindex = dp_ifindex;
	return 0;
}

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* The outer addresses: IPv4, or IPv6 (issue 18); a source only when one is set. */
static int put_tunnel_addrs(struct nl_msg *m, const struct odp_tunnel *t)
{
	if (t->ipv6)
		return (!all_zero(t->ipv6_src, 16) &&
			nla_put(m, OVS_TUNNEL_KEY_ATTR_IPV6_SRC, 16, t->ipv6_src) < 0) ||
		       nla_put(m, OVS_TUNNEL_KEY_ATTR_IPV6_DST, 16, t->ipv6_dst) < 0 ? -ENOMEM : 0;
	return (t->ipv4_src && nla_put_u32(m, OVS_TUNNEL_KEY_ATTR_IPV4_SRC, t->ipv4_src) < 0) ||
	       nla_put_u32(m, OVS_TUNNEL_KEY_ATTR_IPV4_DST, t->ipv4_dst) < 0 ? -ENOMEM : 0;
}

static int put_tunnel(struct nl_msg *m, int type, const struct odp_tunnel *t)
{
	struct nlattr *nest = nla_nest_start(m, type);
	if (!nest || nla_put_u64(m, OVS_TUNNEL_KEY_ATTR_ID, htobe64(t->id)) < 0 ||
	    put_tunnel_addrs(m, t) < 0 ||
	    nla_put_u8(m, OVS_TUNNEL_KEY_ATTR_TOS, t->tos) < 0 ||
	    nla_put_u8(m, OVS_TUNNEL_KEY_ATTR_TTL, t->ttl) < 0)
		return -ENOMEM;
	nla_nest_end(m, nest);
	return 0;
}

static int put_key(struct nl_msg *m, int type, const struct odp_flow_key *k)
{
	struct nlattr *nest = nla_nest_start(m, type);
	if (!nest)
		return -ENOMEM;
	if (k->has_in_port && nla_put_u32(m, OVS_KEY_ATTR_IN_PORT, k->in_port) < 0)
		return -ENOMEM;
	if (k->tun.present && put_tunnel(m, OVS_KEY_ATTR_TUNNEL, &k->tun) < 0)
		return -ENOMEM;
	if (k->has_eth) {
		struct ovs_key_ethernet e;
		memcpy(e.eth_src, k->eth_src, 6);
		memcpy(e.eth_dst, k->eth_dst, 6);
		if (nla_put(m, OVS_KEY_ATTR_ETHERNET, sizeof(e), &e) < 0)
			return -ENOMEM;
	}
	if (k->has_ethertype && nla_put_u16(m, OVS_KEY_ATTR_ETHERTYPE, htons(k->ethertype)) < 0)
		return -ENOMEM;
	nla_nest_end(m, nest);
	return 0;
}

static int put_actions(struct nl_msg *m, int type, const struct odp_actions *act)
{
	if (act->n > ODP_MAX_ACTIONS)
		return -EINVAL;
	/* no action (drop): an empty attribute, which libnl's nest_end would trim away */
	if (act->n == 0)
		return nla_put(m, type, 0, NULL) < 0 ? -ENOMEM : 0;
	struct nlattr *nest = nla_nest_start(m, type);
	if (!nest)
		return -ENOMEM;
	for (size_t i = 0; i < act->n; i++) {
		const struct odp_action *a = &act->a[i];
		if (a->kind == ODP_ACTION_OUTPUT) {
			if (nla_put_u32(m, OVS_ACTION_ATTR_OUTPUT, a->port) < 0)
				return -ENOMEM;
		} else if (a->kind == ODP_ACTION_SET_TUNNEL) {
			struct nlattr *set = nla_nest_start(m, OVS_ACTION_ATTR_SET);
			if (!set || put_tunnel(m, OVS_KEY_ATTR_TUNNEL, &a->tun) < 0)
				return -ENOMEM;
			nla_nest_end(m, set);
		} else {
			return -EINVAL;
		}
	}
	nla_nest_end(m, nest);
	return 0;
}

int odp_build_dp(struct nl_msg *m, int family, uint8_t cmd, int flags, const struct odp_dp *dp)
{
	if (put_header(m, family, cmd, flags, OVS_DATAPATH_VERSION, dp->dp_ifindex) < 0)
		return -ENOMEM;
	if (dp->name[0] && nla_put_string(m, OVS_DP_ATTR_NAME, dp->name) < 0)
		return -ENOMEM;
	if (cmd == OVS_DP_CMD_NEW && nla_put_u32(m, OVS_DP_ATTR_UPCALL_PID, dp->upcall_pid) < 0)
		return -ENOMEM;
	if (dp->has_features && nla_put_u32(m, OVS_DP_ATTR_USER_FEATURES, dp->features) < 0)
		return -ENOMEM;
	return 0;
}

int odp_build_vport(struct nl_msg *m, int family, uint8_t cmd, int flags,
		    const struct odp_vport *v)
{
	if (v->npids > ODP_MAX_PIDS)
		return -EINVAL;
	if (put_header(m, family, cmd, flags, OVS_VPORT_VERSION, v->dp_ifindex) < 0)
		return -ENOMEM;
	if (v->has_port_no && nla_put_u32(m, OVS_VPORT_ATTR_PORT_NO, v->port_no) < 0)
		return -ENOMEM;
	if (v->name[0] && nla_put_string(m, OVS_VPORT_ATTR_NAME, v->name) < 0)
		return -ENOMEM;
	if (cmd == OVS_VPORT_CMD_NEW) {
		if (nla_put_u32(m, OVS_VPORT_ATTR_TYPE, v->type) < 0)
			return -ENOMEM;
		if (v->type == OVS_VPORT_TYPE_VXLAN) {
			struct nlattr *opt = nla_nest_start(m, OVS_VPORT_ATTR_OPTIONS);
			if (!opt || nla_put_u16(m, OVS_TUNNEL_ATTR_DST_PORT, v->dst_port) < 0)
				return -ENOMEM;
			nla_nest_end(m, opt);
		}
	}
	if (v->npids && nla_put(m, OVS_VPORT_ATTR_UPCALL_PID, (int)(v->npids * sizeof(uint32_t)),
				v->pids) < 0)
		return -ENOMEM;
	return 0;
}

int odp_build_flow(struct nl_msg *m, int family, uint8_t cmd, int flags, const struct odp_flow *f)
{
	if (put_header(m, family, cmd, flags, OVS_FLOW_VERSION, f->dp_ifindex) < 0)
		return -ENOMEM;
	if (f->has_key && put_key(m, OVS_FLOW_ATTR_KEY, &f->key) < 0)
		return -ENOMEM;
	if (f->has_mask && put_key(m, OVS_FLOW_ATTR_MASK, &f->mask) < 0)
		return -ENOMEM;
	if (f->has_actions) {
		int ret = put_actions(m, OVS_FLOW_ATTR_ACTIONS, &f->actions);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int odp_build_execute(struct nl_msg *m, int family, int dp_ifindex, const uint8_t *packet,
		      size_t len, const struct odp_flow_key *key, const struct odp_actions *act)
{
	if (len > 65535)
		return -EINVAL;
	if (put_header(m, family, OVS_PACKET_CMD_EXECUTE, 0, OVS_PACKET_VERSION, dp_ifindex) < 0 ||
	    nla_put(m, OVS_PACKET_ATTR_PACKET, (int)len, packet) < 0 ||
	    put_key(m, OVS_PACKET_ATTR_KEY, key) < 0)
		return -ENOMEM;
	return put_actions(m, OVS_PACKET_ATTR_ACTIONS, act);
}

/* --- parsing ---------------------------------------------------------------------------- */

struct attr {
	uint16_t type;          /* without NLA_F_NESTED / NLA_F_NET_BYTEORDER */
	const uint8_t *val;
	size_t len;
};

struct walk {
	const uint8_t *p;
	size_t left;
};

/* The next attribute: 1 with *a, 0 at the end, -1 when one does not fit what is left. */
static int next_attr(struct walk *w, struct attr *a)
{
	struct nlattr na;
	if (w->left < sizeof(na))
		return w->left == 0 ? 0 : -1;
	memcpy(&na, w->p, sizeof(na));
	if (na.nla_len < sizeof(na) || na.nla_len > w->left)
		return -1;
	a->type = na.nla_type & NLA_TYPE_MASK;
	a->val = w->p + NLA_HDRLEN;
	a->len = na.nla_len - NLA_HDRLEN;
	size_t step = NLA_ALIGN(na.nla_len);
	if (step > w->left)
		step = w->left; /* the last attribute may be unaligned (OVS_DP_F_UNALIGNED) */
	w->p += step;
	w->left -= step;
	return 1;
}

static int fail(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

struct ctx {
	const char *family;
	uint8_t cmd;
	char *why;
	size_t cap;
};

#define BAD(c, ...) fail((c)->why, (c)->cap, __VA_ARGS__)

/* Checks the headers of h and sets up a walk over its attributes. */
static int open_msg(const struct nlmsghdr *h, size_t len, const char *family, struct ctx *c,
		    int *dp_ifindex, struct walk *w)
{
	c->family = family;
	c->cmd = 0;
	if (len < NLMSG_HDRLEN || h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > len)
		return BAD(c, "%s: netlink message length %u outside the %zu bytes received", family,
			   len >= sizeof(h->nlmsg_len) ? h->nlmsg_len : 0, len);
	if (h->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr e;
		if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(e.error))
			return BAD(c, "%s: truncated netlink error message", family);
		memcpy(&e.error, (const uint8_t *)h + NLMSG_HDRLEN, sizeof(e.error));
		if (e.error >= 0)
			return BAD(c, "%s: an acknowledgment where a reply was expected", family);
		snprintf(c->why, c->cap, "%s: the kernel answered: %s", family, strerror(-e.error));
		return e.error < -4095 ? -EIO : e.error;
	}
	if (h->nlmsg_type < NLMSG_MIN_TYPE)
		return BAD(c, "%s: unexpected netlink message type %u", family, h->nlmsg_type);
	if (h->nlmsg_len < GENL_HDR + OVS_HDR_LEN)
		return BAD(c, "%s: message of %u bytes is shorter than its headers", family,
			   h->nlmsg_len);
	const uint8_t *base = (const uint8_t *)h;
	struct genlmsghdr g;
	struct ovs_header oh;
	memcpy(&g, base + NLMSG_HDRLEN, sizeof(g));
	memcpy(&oh, base + GENL_HDR, sizeof(oh));
	c->cmd = g.cmd;
	*dp_ifindex = oh.dp_ifindex;
	w->p = base + GENL_HDR + OVS_HDR_LEN;
	w->left = h->nlmsg_len - GENL_HDR - OVS_HDR_LEN;
	return 0;
}

static int get_name(struct ctx *c, const struct attr *a, char out[ODP_NAME_MAX], const char *what)
{
	size_t n = strnlen((const char *)a->val, a->len);
	if (n == 0 || n >= ODP_NAME_MAX || n == a->len)
		return BAD(c, "%s command %u: %s is not a NUL-terminated name of 1-15 characters",
			   c->family, c->cmd, what);
	memcpy(out, a->val, n + 1);
	return 0;
}

static int parse_tunnel(struct ctx *c, const struct attr *outer, struct odp_tunnel *t)
{
	struct walk w = { outer->val, outer->len };
	struct attr a;
	int r;
	memset(t, 0, sizeof(*t));
	t->present = true;
	while ((r = next_attr(&w, &a)) > 0) {
		size_t want = 0;
		switch (a.type) {
		case OVS_TUNNEL_KEY_ATTR_ID: want = 8; break;
		case OVS_TUNNEL_KEY_ATTR_IPV4_SRC: case OVS_TUNNEL_KEY_ATTR_IPV4_DST: want = 4; break;
		case OVS_TUNNEL_KEY_ATTR_IPV6_SRC: case OVS_TUNNEL_KEY_ATTR_IPV6_DST: want = 16; break;
		case OVS_TUNNEL_KEY_ATTR_TOS: case OVS_TUNNEL_KEY_ATTR_TTL: want = 1; break;
		default: continue; /* flags, ports, options: not used */
		}
		if (a.len != want)
			return BAD(c, "%s command %u: tunnel key attribute %u has %zu bytes, not %zu",
				   c->family, c->cmd, a.type, a.len, want);
		switch (a.type) {
		case OVS_TUNNEL_KEY_ATTR_ID: t->id = be64toh(get_u64(a.val)); break;
		case OVS_TUNNEL_KEY_ATTR_IPV4_SRC: t->ipv4_src = get_u32(a.val); break;
		case OVS_TUNNEL_KEY_ATTR_IPV4_DST: t->ipv4_dst = get_u32(a.val); break;
		case OVS_TUNNEL_KEY_ATTR_IPV6_SRC: t->ipv6 = true; memcpy(t->ipv6_src, a.val, 16); break;
		case OVS_TUNNEL_KEY_ATTR_IPV6_DST: t->ipv6 = true; memcpy(t->ipv6_dst, a.val, 16); break;
		case OVS_TUNNEL_KEY_ATTR_TOS: t->tos = a.val[0]; break;
		case OVS_TUNNEL_KEY_ATTR_TTL: t->ttl = a.val[0]; break;
		}
	}
	return r < 0 ? BAD(c, "%s command %u: a tunnel key attribute overruns its nest",
			   c->family, c->cmd) : 0;
}

static int parse_key(struct ctx *c, const struct attr *outer, struct odp_flow_key *k,
		     const char *what)
{
	struct walk w = { outer->val, outer->len };
	struct attr a;
	int r;
	memset(k, 0, sizeof(*k));
	while ((r = next_attr(&w, &a)) > 0) {
		switch (a.type) {
		case OVS_KEY_ATTR_IN_PORT:
			if (a.len != 4)
				return BAD(c, "%s command %u: %s in_port of %zu bytes", c->family,
					   c->cmd, what, a.len);
			k->has_in_port = true;
			k->in_port = get_u32(a.val);
			break;
		case OVS_KEY_ATTR_ETHERNET:
			if (a.len != sizeof(struct ovs_key_ethernet))
				return BAD(c, "%s command %u: %s Ethernet key of %zu bytes", c->family,
					   c->cmd, what, a.len);
			k->has_eth = true;
			memcpy(k->eth_src, a.val, 6);
			memcpy(k->eth_dst, a.val + 6, 6);
			break;
		case OVS_KEY_ATTR_ETHERTYPE:
			if (a.len != 2)
				return BAD(c, "%s command %u: %s ethertype of %zu bytes", c->family,
					   c->cmd, what, a.len);
			k->has_ethertype = true;
			k->ethertype = (uint16_t)((a.val[0] << 8) | a.val[1]);
			break;
		case OVS_KEY_ATTR_TUNNEL:
			if (parse_tunnel(c, &a, &k->tun) < 0)
				return -EBADMSG;
			break;
		default:
			break; /* L3/L4 fields, marks, ...: not used by meshd */
		}
	}
	return r < 0 ? BAD(c, "%s command %u: a %s attribute overruns its nest", c->family, c->cmd,
			   what) : 0;
}

static int parse_actions(struct ctx *c, const struct attr *outer, struct odp_actions *act)
{
	struct walk w = { outer->val, outer->len };
	struct attr a;
	int r;
	memset(act, 0, sizeof(*act));
	while ((r = next_attr(&w, &a)) > 0) {
		if (act->n == ODP_MAX_ACTIONS)
			return BAD(c, "%s command %u: more than %d actions", c->family, c->cmd,
				   ODP_MAX_ACTIONS);
		struct odp_action *x = &act->a[act->n];
		if (a.type == OVS_ACTION_ATTR_OUTPUT) {
			if (a.len != 4)
				return BAD(c, "%s command %u: output action of %zu bytes", c->family,
					   c->cmd, a.len);
			x->kind = ODP_ACTION_OUTPUT;
			x->port = get_u32(a.val);
			act->n++;
		} else if (a.type == OVS_ACTION_ATTR_SET) {
			struct walk inner = { a.val, a.len };
			struct attr k;
			int ir = next_attr(&inner, &k);
			if (ir < 0)
				return BAD(c, "%s command %u: a set action overruns itself", c->family,
					   c->cmd);
			if (ir == 0 || k.type != OVS_KEY_ATTR_TUNNEL) {
				act->unknown++;
				continue;
			}
			x->kind = ODP_ACTION_SET_TUNNEL;
			if (parse_tunnel(c, &k, &x->tun) < 0)
				return -EBADMSG;
			act->n++;
		} else {
			act->unknown++;
		}
	}
	return r < 0 ? BAD(c, "%s command %u: an action overruns the action list", c->family,
			   c->cmd) : 0;
}

int odp_parse_dp(const struct nlmsghdr *h, size_t len, struct odp_dp *out, char *why, size_t cap)
{
	struct ctx c = { .why = why, .cap = cap };
	struct walk w;
	struct attr a;
	int r;
	memset(out, 0, sizeof(*out));
	if ((r = open_msg(h, len, OVS_DATAPATH_FAMILY, &c, &out->dp_ifindex, &w)) < 0)
		return r;
	while ((r = next_attr(&w, &a)) > 0) {
		switch (a.type) {
		case OVS_DP_ATTR_NAME:
			if (get_name(&c, &a, out->name, "OVS_DP_ATTR_NAME") < 0)
				return -EBADMSG;
			break;
		case OVS_DP_ATTR_UPCALL_PID:
			if (a.len != 4)
				return BAD(&c, "%s command %u: upcall PID of %zu bytes", c.family,
					   c.cmd, a.len);
			out->upcall_pid = get_u32(a.val);
			break;
		case OVS_DP_ATTR_USER_FEATURES:
			if (a.len != 4)
				return BAD(&c, "%s command %u: user features of %zu bytes", c.family,
					   c.cmd, a.len);
			out->has_features = true;
			out->features = get_u32(a.val);
			break;
		case OVS_DP_ATTR_STATS: {
			struct ovs_dp_stats st;
			if (a.len < sizeof(st))
				return BAD(&c, "%s command %u: stats of %zu bytes", c.family, c.cmd,
					   a.len);
			memcpy(&st, a.val, sizeof(st));
			out->has_stats = true;
			out->n_hit = st.n_hit;
			out->n_missed = st.n_missed;
			out->n_lost = st.n_lost;
			out->n_flows = st.n_flows;
			break;
		}
		default:
			break;
		}
	}
	if (r < 0)
		return BAD(&c, "%s command %u: an attribute overruns the message", c.family, c.cmd);
	if (!out->name[0])
		return BAD(&c, "%s command %u: no datapath name", c.family, c.cmd);
	return 0;
}

int odp_parse_vport(const struct nlmsghdr *h, size_t len, struct odp_vport *out, char *why,
		    size_t cap)
{
	struct ctx c = { .why = why, .cap = cap };
	struct walk w;
	struct attr a;
	int r;
	bool have_type = false;
	memset(out, 0, sizeof(*out));
	if ((r = open_msg(h, len, OVS_VPORT_FAMILY, &c, &out->dp_ifindex, &w)) < 0)
		return r;
	while ((r = next_attr(&w, &a)) > 0) {
		switch (a.type) {
		case OVS_VPORT_ATTR_PORT_NO:
		case OVS_VPORT_ATTR_TYPE:
		case OVS_VPORT_ATTR_IFINDEX:
			if (a.len != 4)
				return BAD(&c, "%s command %u: attribute %u of %zu bytes, not 4",
					   c.family, c.cmd, a.type, a.len);
			if (a.type == OVS_VPORT_ATTR_PORT_NO) {
				out->has_port_no = true;
				out->port_no = get_u32(a.val);
			} else if (a.type == OVS_VPORT_ATTR_TYPE) {
				have_type = true;
				out->type = get_u32(a.val);
			} else {
				out->ifindex = (int)get_u32(a.val);
			}
			break;
		case OVS_VPORT_ATTR_NAME:
			if (get_name(&c, &a, out->name, "OVS_VPORT_ATTR_NAME") < 0)
				return -EBADMSG;
			break;
		case OVS_VPORT_ATTR_UPCALL_PID:
			if (a.len % 4 || a.len / 4 > ODP_MAX_PIDS)
				return BAD(&c, "%s command %u: upcall PID array of %zu bytes", c.family,
					   c.cmd, a.len);
			out->npids = a.len / 4;
			memcpy(out->pids, a.val, a.len);
			break;
		case OVS_VPORT_ATTR_OPTIONS: {
			struct walk ow = { a.val, a.len };
			struct attr o;
			int orr;
			while ((orr = next_attr(&ow, &o)) > 0)
				if (o.type == OVS_TUNNEL_ATTR_DST_PORT) {
					if (o.len != 2)
						return BAD(&c, "%s command %u: tunnel port of %zu bytes",
							   c.family, c.cmd, o.len);
					memcpy(&out->dst_port, o.val, 2);
				}
			if (orr < 0)
				return BAD(&c, "%s command %u: a vport option overruns its nest",
					   c.family, c.cmd);
			break;
		}
		default:
			break;
		}
	}
	if (r < 0)
		return BAD(&c, "%s command %u: an attribute overruns the message", c.family, c.cmd);
	if (!out->has_port_no || !have_type || !out->name[0])
		return BAD(&c, "%s command %u: a vport without its port number, type or name",
			   c.family, c.cmd);
	return 0;
}

int odp_parse_flow(const struct nlmsghdr *h, size_t len, struct odp_flow *out, char *why,
		   size_t cap)
{
	struct ctx c = { .why = why, .cap = cap };
	struct walk w;
	struct attr a;
	int r;
	memset(out, 0, sizeof(*out));
	if ((r = open_msg(h, len, OVS_FLOW_FAMILY, &c, &out->dp_ifindex, &w)) < 0)
		return r;
	while ((r = next_attr(&w, &a)) > 0) {
		switch (a.type) {
		case OVS_FLOW_ATTR_KEY:
			if (parse_key(&c, &a, &out->key, "flow key") < 0)
				return -EBADMSG;
			out->has_key = true;
			break;
		case OVS_FLOW_ATTR_MASK:
			if (parse_key(&c, &a, &out->mask, "flow mask") < 0)
				return -EBADMSG;
			out->has_mask = true;
			break;
		case OVS_FLOW_ATTR_ACTIONS:
			if (parse_actions(&c, &a, &out->actions) < 0)
				return -EBADMSG;
			out->has_actions = true;
			break;
		case OVS_FLOW_ATTR_STATS: {
			struct ovs_flow_stats st;
			if (a.len != sizeof(st))
				return BAD(&c, "%s command %u: flow stats of %zu bytes", c.family, c.cmd,
					   a.len);
			memcpy(&st, a.val, sizeof(st));
			out->has_stats = true;
			out->n_packets = st.n_packets;
			out->n_bytes = st.n_bytes;
			break;
		}
		case OVS_FLOW_ATTR_USED:
			if (a.len != 8)
				return BAD(&c, "%s command %u: used time of %zu bytes", c.family, c.cmd,
					   a.len);
			out->has_used = true;
			out->used_ms = get_u64(a.val);
			break;
		default:
			break;
		}
	}
	if (r < 0)
		return BAD(&c, "%s command %u: an attribute overruns the message", c.family, c.cmd);
	if (!out->has_key)
		return BAD(&c, "%s command %u: a flow without a key", c.family, c.cmd);
	return 0;
}

int odp_parse_upcall(const struct nlmsghdr *h, size_t len, struct odp_upcall *out, char *why,
		     size_t cap)
{
	struct ctx c = { .why = why, .cap = cap };
	struct walk w;
	struct attr a;
	int r;
	bool have_key = false;
	memset(out, 0, sizeof(*out));
	if ((r = open_msg(h, len, OVS_PACKET_FAMILY, &c, &out->dp_ifindex, &w)) < 0)
		return r;
	out->cmd = c.cmd;
	if (c.cmd != OVS_PACKET_CMD_MISS && c.cmd != OVS_PACKET_CMD_ACTION)
		return BAD(&c, "%s: command %u is not an upcall", c.family, c.cmd);
	while ((r = next_attr(&w, &a)) > 0) {
		if (a.type == OVS_PACKET_ATTR_PACKET) {
			if (a.len < 14)
				return BAD(&c, "%s command %u: a packet of %zu bytes is no Ethernet frame",
					   c.family, c.cmd, a.len);
			out->packet = a.val;
			out->len = a.len;
		} else if (a.type == OVS_PACKET_ATTR_KEY) {
			if (parse_key(&c, &a, &out->key, "packet key") < 0)
				return -EBADMSG;
			have_key = true;
		}
	}
	if (r < 0)
		return BAD(&c, "%s command %u: an attribute overruns the message", c.family, c.cmd);
	if (!out->packet || !have_key)
		return BAD(&c, "%s command %u: an upcall without its packet or key", c.family, c.cmd);
	return 0;
}
