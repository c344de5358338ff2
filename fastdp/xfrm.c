/* fastdp/xfrm.c: ESP SAs and outbound policies in the kernel's xfrm tables (see xfrm.h): each
 * request built with libnl, sent, and its acknowledgement awaited. */
#include "fastdp/nl_cb.h"
#include "fastdp/xfrm.h"
#include "fastdp/xfrm_dump.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AEAD_ALG "rfc4106(gcm(aes))"
#define PURGE_BATCH 256 /* entries deleted per dump; dumped again while there were more */

struct mesh_xfrm {
	struct nl_sock *sk;
};

bool mesh_xfrm_flow_is_any(const struct mesh_xfrm_flow *fl)
{
	static const uint8_t zero[16];
	return !memcmp(fl->src, zero, 16) && !memcmp(fl->dst, zero, 16);
}

static uint8_t flow_family(const struct mesh_xfrm_flow *fl)
{
	return fl->family == AF_INET6 ? AF_INET6 : AF_INET;
}

static void selector(struct xfrm_selector *sel, const struct mesh_xfrm_flow *fl)
{
	uint8_t host = flow_family(fl) == AF_INET6 ? 128 : 32;
	memset(sel, 0, sizeof(*sel));
	sel->family = flow_family(fl);
	memcpy(&sel->saddr, fl->src, 16);
	memcpy(&sel->daddr, fl->dst, 16);
	/* 0 and 0: any host */
	sel->prefixlen_s = sel->prefixlen_d = mesh_xfrm_flow_is_any(fl) ? 0 : host;
	sel->proto = IPPROTO_UDP;
	sel->dport = htons(fl->dport);
	sel->dport_mask = 0xffff;
}

/* "198.18.0.2" or "2001:2:0:6d::2", for messages. */
static const char *addr_str(uint8_t family, const uint8_t a[16], char *buf, size_t cap)
{
	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)cap))
		snprintf(buf, cap, "?");
	return buf;
}

static void no_limits(struct xfrm_lifetime_cfg *lft)
{
	lft->soft_byte_limit = lft->hard_byte_limit = XFRM_INF;
	lft->soft_packet_limit = lft->hard_packet_limit = XFRM_INF;
}

/* After a failure of the socket itself (not an error the kernel answered), an answer may be
 * left unread, and libnl would take it for the next request's: start on a new socket. */
static void reconnect(struct mesh_xfrm *x)
{
	struct nl_sock *sk = nl_socket_alloc();
	if (!sk || nl_connect(sk, NETLINK_XFRM) < 0) {
		if (sk)
			nl_socket_free(sk);
		return; /* keep the old one: better than none */
	}
	nl_socket_free(x->sk);
	x->sk = sk;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	return NL_STOP;
}

/* Keeps the kernel's own errno, which libnl would fold into "Unspecific failure". */
static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	*(int *)arg = e->error;
	return NL_STOP;
}

/* Sends msg, wipes and frees it (an SA's carries its key), and waits for the kernel's
 * answer. Returns 0 or the kernel's negative errno. */
static int transact(struct mesh_xfrm *x, struct nl_msg *msg, const char *what, char *err,
		    size_t errlen)
{
	int kerr = 0, ret = nl_send_auto(x->sk, msg);
	struct nlmsghdr *h = nlmsg_hdr(msg);
	sodium_memzero(h, h->nlmsg_len);
	nlmsg_free(msg);
	if (ret >= 0) {
		struct nl_cb *cb = mesh_nl_clone_cb(x->sk);
		if (!cb) {
			snprintf(err, errlen, "%s: out of memory", what);
			return -ENOMEM;
		}
		nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, NULL);
		nl_cb_err(cb, NL_CB_CUSTOM, on_error, &kerr);
		ret = nl_recvmsgs(x->sk, cb);
		nl_cb_put(cb);
	}
	if (ret >= 0 && kerr == 0)
		return 0;
	if (kerr < 0) {
		snprintf(err, errlen, "%s: %s", what, strerror(-kerr));
		return kerr;
	}
	snprintf(err, errlen, "%s: %s", what, nl_geterror(ret));
	reconnect(x);
	return -EIO;
}

static struct nl_msg *new_msg(int type, int flags, const void *hdr, size_t len, char *err,
			      size_t errlen)
{
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);
	if (msg && nlmsg_append(msg, (void *)hdr, len, NLMSG_ALIGNTO) == 0)
		return msg;
	nlmsg_free(msg);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

int mesh_xfrm_sa_add(struct mesh_xfrm *x, const struct mesh_xfrm_flow *fl,
		     const struct mesh_esp_sa *sa, uint32_t reqid, char *err, size_t errlen)
{
	struct xfrm_usersa_info info;
	memset(&info, 0, sizeof(info));
	selector(&info.sel, fl);
	memcpy(&info.id.daddr, fl->dst, 16);
	info.id.spi = htonl(sa->spi);
	info.id.proto = IPPROTO_ESP;
	memcpy(&info.saddr, fl->src, 16);
	no_limits(&info.lft);
	info.reqid = reqid;
	info.family = flow_family(fl);
	info.mode = XFRM_MODE_TRANSPORT;
	info.flags = XFRM_STATE_ESN; /* the window is in XFRMA_REPLAY_ESN_VAL */

	/* both end in a flexible array: the key, and the replay window's bitmap */
	_Alignas(struct xfrm_algo_aead) uint8_t aead[sizeof(struct xfrm_algo_aead) + MESH_ESP_KEY_LEN];
	_Alignas(struct xfrm_replay_state_esn) uint8_t
		esn[sizeof(struct xfrm_replay_state_esn) + MESH_XFRM_REPLAY_WINDOW / 8];
	struct xfrm_algo_aead *a = (struct xfrm_algo_aead *)aead;
	struct xfrm_replay_state_esn *r = (struct xfrm_replay_state_esn *)esn;
	memset(aead, 0, sizeof(aead));
	memset(esn, 0, sizeof(esn));
	snprintf(a->alg_name, sizeof(a->alg_name), "%s", AEAD_ALG);
	a->alg_key_len = MESH_ESP_KEY_LEN * 8;
	a->alg_icv_len = MESH_ESP_ICV_BITS;
	memcpy(a->alg_key, sa->key, MESH_ESP_KEY_LEN);
	r->bmp_len = MESH_XFRM_REPLAY_WINDOW / 32;
	r->replay_window = MESH_XFRM_REPLAY_WINDOW;

	char what[96];
	snprintf(what, sizeof(what), "adding ESP SA 0x%08x", sa->spi);
	struct nl_msg *msg = new_msg(XFRM_MSG_NEWSA, NLM_F_CREATE | NLM_F_EXCL, &info, sizeof(info),
				     err, errlen);
	int ret = -ENOMEM;
	if (!msg)
		goto out;
	if (nla_put(msg, XFRMA_ALG_AEAD, sizeof(aead), aead) < 0 ||
	    nla_put(msg, XFRMA_REPLAY_ESN_VAL, sizeof(esn), esn) < 0) {
		snprintf(err, errlen, "%s: message too large", what);
		goto out;
	}
	ret = transact(x, msg, what, err, errlen);
	msg = NULL;
out:
	if (msg) {
		struct nlmsghdr *h = nlmsg_hdr(msg);
		sodium_memzero(h, h->nlmsg_len); /* it holds the key */
		nlmsg_free(msg);
	}
	sodium_memzero(aead, sizeof(aead));
	return ret;
}

int mesh_xfrm_sa_del(struct mesh_xfrm *x, uint8_t family, const uint8_t dst[16], uint32_t spi,
		     char *err, size_t errlen)
{
	struct xfrm_usersa_id id;
	memset(&id, 0, sizeof(id));
	memcpy(&id.daddr, dst, 16);
	id.spi = htonl(spi);
	id.family = family == AF_INET6 ? AF_INET6 : AF_INET;
	id.proto = IPPROTO_ESP;
	char what[96];
	snprintf(what, sizeof(what), "deleting ESP SA 0x%08x", spi);
	struct nl_msg *msg = new_msg(XFRM_MSG_DELSA, 0, &id, sizeof(id), err, errlen);
	return msg ? transact(x, msg, what, err, errlen) : -ENOMEM;
}

/* An outbound policy for fl's packets. */
static void out_policy(struct xfrm_userpolicy_info *pol, const struct mesh_xfrm_flow *fl,
		       uint32_t priority, uint8_t action)
{
	memset(pol, 0, sizeof(*pol));
	selector(&pol->sel, fl);
	no_limits(&pol->lft);
	pol->priority = priority;
	pol->dir = XFRM_POLICY_OUT;
	pol->action = action;
	pol->share = XFRM_SHARE_ANY;
}

int mesh_xfrm_policy_set(struct mesh_xfrm *x, const struct mesh_xfrm_flow *fl, uint32_t reqid,
			 char *err, size_t errlen)
{
	struct xfrm_userpolicy_info pol;
	struct xfrm_user_tmpl tmpl;
	out_policy(&pol, fl, MESH_XFRM_POLICY_PRIORITY, XFRM_POLICY_ALLOW);
	memset(&tmpl, 0, sizeof(tmpl));
	memcpy(&tmpl.id.daddr, fl->dst, 16);
	tmpl.id.proto = IPPROTO_ESP;
	tmpl.family = flow_family(fl);
	memcpy(&tmpl.saddr, fl->src, 16);
	tmpl.reqid = reqid;
	tmpl.mode = XFRM_MODE_TRANSPORT;
	tmpl.aalgos = tmpl.ealgos = tmpl.calgos = ~0u;
	char what[96], ip[INET6_ADDRSTRLEN];
	snprintf(what, sizeof(what), "setting the IPsec policy towards %s",
		 addr_str(fl->family, fl->dst, ip, sizeof(ip)));
	struct nl_msg *msg = new_msg(XFRM_MSG_UPDPOLICY, NLM_F_CREATE, &pol, sizeof(pol), err,
				     errlen);
	if (!msg)
		return -ENOMEM;
	if (nla_put(msg, XFRMA_TMPL, sizeof(tmpl), &tmpl) < 0) {
		nlmsg_free(msg);
		snprintf(err, errlen, "%s: message too large", what);
		return -ENOMEM;
	}
	return transact(x, msg, what, err, errlen);
}

int mesh_xfrm_block_set(struct mesh_xfrm *x, uint8_t family, uint16_t port, char *err,
			size_t errlen)
{
	struct mesh_xfrm_flow any = { .family = family, .dport = port };
	struct xfrm_userpolicy_info pol;
	out_policy(&pol, &any, MESH_XFRM_BLOCK_PRIORITY, XFRM_POLICY_BLOCK);
	struct nl_msg *msg = new_msg(XFRM_MSG_UPDPOLICY, NLM_F_CREATE, &pol, sizeof(pol), err,
				     errlen);
	return msg ? transact(x, msg, family == AF_INET6
			     ? "setting the IPsec policy that blocks unencrypted VXLAN over IPv6"
			     : "setting the IPsec policy that blocks unencrypted VXLAN", err, errlen)
		   : -ENOMEM;
}

void mesh_xfrm_block_del(struct mesh_xfrm *x, uint8_t family, uint16_t port)
{
	char why[256];
	struct mesh_xfrm_flow any = { .family = family, .dport = port };
	mesh_xfrm_policy_del(x, &any, why, sizeof(why));
}

int mesh_xfrm_policy_del(struct mesh_xfrm *x, const struct mesh_xfrm_flow *fl, char *err,
			 size_t errlen)
{
	struct xfrm_userpolicy_id id;
	memset(&id, 0, sizeof(id));
	selector(&id.sel, fl);
	id.dir = XFRM_POLICY_OUT;
	char what[96], ip[INET6_ADDRSTRLEN];
	snprintf(what, sizeof(what), "deleting the IPsec policy towards %s",
		 addr_str(fl->family, fl->dst, ip, sizeof(ip)));
	struct nl_msg *msg = new_msg(XFRM_MSG_DELPOLICY, 0, &id, sizeof(id), err, errlen);
	return msg ? transact(x, msg, what, err, errlen) : -ENOMEM;
}

struct purge {
	uint16_t port;
	struct mesh_xfrm_item items[PURGE_BATCH];
	size_t n;
	bool more;
};

static int collect(struct nl_msg *msg, void *arg)
{
	struct purge *p = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct mesh_xfrm_item it;
	if (mesh_xfrm_classify((const uint8_t *)h, h->nlmsg_len, p->port, &it) != 1)
		return NL_OK;
	if (p->n < PURGE_BATCH)
		p->items[p->n++] = it;
	else
		p->more = true;
	return NL_OK;
}

/* One dump of the SAs or policies (type XFRM_MSG_GETSA or _GETPOLICY), ours collected. */
static int dump(struct mesh_xfrm *x, int type, struct purge *p, char *err, size_t errlen)
{
	struct nl_cb *cb = mesh_nl_clone_cb(x->sk);
	if (!cb) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, collect, p);
	p->n = 0;
	p->more = false;
	int ret = nl_send_simple(x->sk, type, NLM_F_DUMP, NULL, 0);
	if (ret >= 0)
		ret = nl_recvmsgs(x->sk, cb);
	nl_cb_put(cb);
	if (ret >= 0)
		return 0;
	snprintf(err, errlen, "cannot list the kernel's IPsec %s: %s",
		 type == XFRM_MSG_GETSA ? "SAs" : "policies", nl_geterror(ret));
	reconnect(x);
	return -EIO;
}

int mesh_xfrm_purge(struct mesh_xfrm *x, uint16_t port, bool keep_block, unsigned *deleted,
		    char *err, size_t errlen)
{
	static const int types[] = { XFRM_MSG_GETPOLICY, XFRM_MSG_GETSA };
	struct purge *p = calloc(1, sizeof(*p));
	char why[256];
	int ret = 0;
	*deleted = 0;
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->port = port;
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		do {
			if ((ret = dump(x, types[t], p, err, errlen)) < 0)
				goto out;
			size_t before = *deleted;
			for (size_t i = 0; i < p->n; i++) {
				const struct mesh_xfrm_item *it = &p->items[i];
				if (keep_block && it->kind == MESH_XFRM_POLICY &&
				    mesh_xfrm_flow_is_any(&it->fl))
					continue;
				if ((it->kind == MESH_XFRM_SA
					     ? mesh_xfrm_sa_del(x, it->fl.family, it->fl.dst, it->spi,
								why, sizeof(why))
					     : mesh_xfrm_policy_del(x, &it->fl, why, sizeof(why))) == 0)
					(*deleted)++;
			}
			if (*deleted == before) /* nothing would go: do not dump forever */
				break;
		} while (p->more);
	}
out:
	free(p);
	return ret;
}

/* An SA between 192.0.2.1 and 192.0.2.2 (TEST-NET-1: no traffic of ours goes there, and no
 * policy points at it) with a random key, added and deleted. */
static int probe(struct mesh_xfrm *x, char *err, size_t errlen)
{
	struct mesh_xfrm_flow fl = { .family = AF_INET, .src = { 192, 0, 2, 1 },
				     .dst = { 192, 0, 2, 2 }, .dport = 9 };
	struct mesh_esp_sa sa;
	char why[256];
	randombytes_buf(&sa, sizeof(sa));
	sa.spi |= MESH_ESP_SPI_MIN;
	int ret = mesh_xfrm_sa_add(x, &fl, &sa, 0, why, sizeof(why));
	uint32_t spi = sa.spi;
	sodium_memzero(&sa, sizeof(sa));
	if (ret < 0) {
		snprintf(err, errlen, "the kernel takes no ESP SA with %s (%s%s)", AEAD_ALG, why,
			 ret == -ENOSYS || ret == -EPROTONOSUPPORT ? ": no esp4 or gcm module?" : "");
		return ret;
	}
	mesh_xfrm_sa_del(x, fl.family, fl.dst, spi, why, sizeof(why));
	return 0;
}

struct mesh_xfrm *mesh_xfrm_open(bool probe_esp, char *err, size_t errlen)
{
	struct mesh_xfrm *x = calloc(1, sizeof(*x));
	int ret;
	if (!x || !(x->sk = nl_socket_alloc())) {
		snprintf(err, errlen, "out of memory");
		goto errout;
	}
	if ((ret = nl_connect(x->sk, NETLINK_XFRM)) < 0) {
		snprintf(err, errlen, "cannot open the kernel's IPsec (xfrm) netlink: %s",
			 nl_geterror(ret));
		goto errout;
	}
	if (probe_esp && probe(x, err, errlen) < 0)
		goto errout;
	return x;
errout:
	mesh_xfrm_close(x);
	return NULL;
}

void mesh_xfrm_close(struct mesh_xfrm *x)
{
	if (!x)
		return;
	if (x->sk)
		nl_socket_free(x->sk);
	free(x);
}
