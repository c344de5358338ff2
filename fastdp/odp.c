/* fastdp/odp.c: the Open vSwitch datapath client (see odp.h). Requests carry NLM_F_ACK; the
 * replies are collected with libnl's receive loop, parsed with fastdp/odp_codec.c, and a
 * kernel error is kept as its errno so that callers can tell EEXIST, ENODEV or EADDRINUSE
 * apart. */
#include <errno.h>
#include <linux/openvswitch.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "fastdp/nl_cb.h"
#include "fastdp/odp.h"

#define UPCALL_RCVBUF (4 * 1024 * 1024)

enum reply_kind { REPLY_NONE, REPLY_DP, REPLY_VPORT, REPLY_FLOW };

struct request {
	struct odp_client *c;
	enum reply_kind kind;
	void *out;                 /* struct odp_dp / odp_vport / odp_flow for the first reply */
	int (*each)(void *arg, const struct odp_flow *f); /* dumps */
	void *each_arg;
	int count, kernel_err, parse_err;
	bool acked;
	char why[ODP_WHY_LEN];
};

static int on_valid(struct nl_msg *m, void *arg)
{
	struct request *q = arg;
	struct nlmsghdr *h = nlmsg_hdr(m);
	int ret = 0;
	if (q->c->trace)
		q->c->trace(q->c->trace_arg, h);
	if (q->kind == REPLY_NONE)
		return NL_OK;
	if (q->kind == REPLY_DP) {
		ret = odp_parse_dp(h, h->nlmsg_len, q->out, q->why, sizeof(q->why));
	} else if (q->kind == REPLY_VPORT) {
		ret = odp_parse_vport(h, h->nlmsg_len, q->out, q->why, sizeof(q->why));
	} else {
		static struct odp_flow f; /* large: not on the stack */
		ret = odp_parse_flow(h, h->nlmsg_len, q->each ? &f : q->out, q->why, sizeof(q->why));
		if (ret == 0 && q->each && q->each(q->each_arg, &f) != 0)
			return NL_STOP;
	}
	if (ret < 0) {
		q->parse_err = ret;
		return NL_STOP;
	}
	q->count++;
	return NL_OK;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct request *q = arg;
	q->kernel_err = e->error;
	q->acked = true; /* an error is the request's last word */
	return NL_STOP;
}

static int on_ack(struct nl_msg *m, void *arg)
{
	struct request *q = arg;
	q->acked = true;
	return NL_STOP;
}

/* Sends m (freed here) and collects the answer. */
static int transact(struct odp_client *c, struct nl_msg *m, struct request *q, const char *what,
		    char *err, size_t errlen)
{
	struct nl_cb *cb = mesh_nl_clone_cb(c->sk);
	int ret;
	if (!cb) {
		nlmsg_free(m);
		snprintf(err, errlen, "%s: out of memory", what);
		return -ENOMEM;
	}
	q->c = c;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, q);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, q);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, q);
	bool want_ack = nlmsg_hdr(m)->nlmsg_flags & NLM_F_ACK;
	ret = nl_send_auto(c->sk, m);
	nlmsg_free(m);
	/* libnl returns after each datagram of a plain reply: read until the acknowledgment, so
	 * that nothing of this request is left for the next one */
	while (ret >= 0) {
		ret = nl_recvmsgs(c->sk, cb);
		if (!want_ack || q->acked || q->parse_err)
			break;
	}
	nl_cb_put(cb);
	if (q->kernel_err) {
		snprintf(err, errlen, "%s: the kernel answered: %s", what, strerror(-q->kernel_err));
		return q->kernel_err;
	}
	if (q->parse_err) {
		snprintf(err, errlen, "%s: %s", what, q->why);
		return q->parse_err;
	}
	if (ret < 0) {
		snprintf(err, errlen, "%s: %s", what, nl_geterror(ret));
		return -EIO;
	}
	return 0;
}

static struct nl_msg *new_msg(char *err, size_t errlen)
{
	struct nl_msg *m = nlmsg_alloc();
	if (!m)
		snprintf(err, errlen, "out of memory");
	return m;
}

static int resolve(struct nl_sock *sk, const char *name, int *id, char *err, size_t errlen)
{
	*id = genl_ctrl_resolve(sk, name);
	if (*id >= 0)
		return 0;
	snprintf(err, errlen, "no openvswitch kernel module (generic netlink family %s is unknown)",
		 name);
	return -ENOENT;
}

int odp_open(struct odp_client *c, char *err, size_t errlen)
{
	int ret;
	memset(c, 0, sizeof(*c));
	c->sk = nl_socket_alloc();
	c->upcall_sk = nl_socket_alloc();
	if (!c->sk || !c->upcall_sk) {
		snprintf(err, errlen, "cannot allocate netlink sockets");
		ret = -ENOMEM;
		goto errout;
	}
	if ((ret = genl_connect(c->sk)) < 0 || (ret = genl_connect(c->upcall_sk)) < 0) {
		snprintf(err, errlen, "cannot open generic netlink: %s", nl_geterror(ret));
		ret = -EIO;
		goto errout;
	}
	if ((ret = resolve(c->sk, OVS_DATAPATH_FAMILY, &c->fam_dp, err, errlen)) < 0 ||
	    (ret = resolve(c->sk, OVS_VPORT_FAMILY, &c->fam_vport, err, errlen)) < 0 ||
	    (ret = resolve(c->sk, OVS_FLOW_FAMILY, &c->fam_flow, err, errlen)) < 0 ||
	    (ret = resolve(c->sk, OVS_PACKET_FAMILY, &c->fam_packet, err, errlen)) < 0)
		goto errout;
	nl_socket_disable_seq_check(c->upcall_sk);
	nl_socket_set_nonblocking(c->upcall_sk);
	/* misses come in bursts (every packet of a new flow until its flow is in): a large
	 * buffer, beyond rmem_max where we may (CAP_NET_ADMIN), so heartbeats are not lost */
	int rcvbuf = UPCALL_RCVBUF;
	if (setsockopt(nl_socket_get_fd(c->upcall_sk), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) < 0)
		nl_socket_set_buffer_size(c->upcall_sk, UPCALL_RCVBUF, 0);
	return 0;
errout:
	odp_close(c);
	return ret;
}

void odp_close(struct odp_client *c)
{
	if (c->sk)
		nl_socket_free(c->sk);
	if (c->upcall_sk)
		nl_socket_free(c->upcall_sk);
	c->sk = c->upcall_sk = NULL;
}

/* One ovs_datapath request about our datapath (or in's name): built, sent, answered. With out,
 * the reply describing the datapath lands there and its absence is an error. */
static int dp_cmd(struct odp_client *c, uint8_t cmd, int flags, const struct odp_dp *in,
		  struct odp_dp *out, const char *what, char *err, size_t errlen)
{
	struct request q = { .kind = out ? REPLY_DP : REPLY_NONE, .out = out };
	struct nl_msg *m = new_msg(err, errlen);
	if (!m)
		return -ENOMEM;
	if (odp_build_dp(m, c->fam_dp, cmd, NLM_F_ACK | flags, in) < 0) {
		nlmsg_free(m);
		snprintf(err, errlen, "%s: cannot build the request", what);
		return -ENOMEM;
	}
	int ret = transact(c, m, &q, what, err, errlen);
	if (ret == 0 && out && !q.count) {
		snprintf(err, errlen, "%s: no reply describing datapath %s", what, in->name);
		return -EIO;
	}
	return ret;
}

/* Our datapath, as named in the client, in a request. */
static struct odp_dp ours(const struct odp_client *c)
{
	struct odp_dp dp = { .dp_ifindex = c->dp_ifindex };
	snprintf(dp.name, sizeof(dp.name), "%s", c->dp_name);
	return dp;
}

int odp_dp_ensure(struct odp_client *c, const char *name, char *err, size_t errlen)
{
	struct odp_dp dp = { 0 }, out;
	snprintf(dp.name, sizeof(dp.name), "%s", name);
	int ret = dp_cmd(c, OVS_DP_CMD_GET, 0, &dp, &out, "ovs_datapath get", err, errlen);
	if (ret == -ENODEV || ret == -ENOENT) {
		dp.upcall_pid = nl_socket_get_local_port(c->upcall_sk);
		dp.has_features = true;
		dp.features = ODP_FEATURES;
		/* NEW answers the requester only with NLM_F_ECHO (the kernel's ovs_notify) */
		ret = dp_cmd(c, OVS_DP_CMD_NEW, NLM_F_CREATE | NLM_F_ECHO, &dp, &out,
			     "ovs_datapath new", err, errlen);
	}
	if (ret < 0)
		return ret;
	c->dp_ifindex = out.dp_ifindex;
	snprintf(c->dp_name, sizeof(c->dp_name), "%s", out.name);
	return 0;
}

int odp_dp_delete(struct odp_client *c, char *err, size_t errlen)
{
	struct odp_dp dp = ours(c);
	return dp_cmd(c, OVS_DP_CMD_DEL, 0, &dp, NULL, "ovs_datapath del", err, errlen);
}

int odp_dp_get(struct odp_client *c, struct odp_dp *out, char *err, size_t errlen)
{
	struct odp_dp dp = ours(c);
	return dp_cmd(c, OVS_DP_CMD_GET, 0, &dp, out, "ovs_datapath get", err, errlen);
}

int odp_dp_set_features(struct odp_client *c, uint32_t features, char *err, size_t errlen)
{
	struct odp_dp dp = ours(c);
	dp.has_features = true;
	dp.features = features;
	return dp_cmd(c, OVS_DP_CMD_SET, 0, &dp, NULL, "ovs_datapath set", err, errlen);
}

static int vport_cmd(struct odp_client *c, uint8_t cmd, int flags, const struct odp_vport *in,
		     struct odp_vport *out, const char *what, char *err, size_t errlen)
{
	struct request q = { .kind = out ? REPLY_VPORT : REPLY_NONE, .out = out };
	struct nl_msg *m = new_msg(err, errlen);
	if (!m)
		return -ENOMEM;
	if (odp_build_vport(m, c->fam_vport, cmd, NLM_F_ACK | flags, in) < 0) {
		nlmsg_free(m);
		snprintf(err, errlen, "%s: cannot build the request", what);
		return -EINVAL;
	}
	int ret = transact(c, m, &q, what, err, errlen);
	if (ret == 0 && out && !q.count) {
		snprintf(err, errlen, "%s: no reply describing the vport", what);
		return -EIO;
	}
	return ret;
}

int odp_vport_add(struct odp_client *c, struct odp_vport *v, char *err, size_t errlen)
{
	struct odp_vport out;
	int ret;
	v->dp_ifindex = c->dp_ifindex;
	v->npids = 1;
	v->pids[0] = nl_socket_get_local_port(c->upcall_sk);
	for (int tries = 0;; tries++) {
		ret = vport_cmd(c, OVS_VPORT_CMD_NEW, NLM_F_CREATE | NLM_F_ECHO, v, &out,
				"ovs_vport new", err, errlen);
		if (ret != -EADDRINUSE || tries == 9)
			break;
		struct timespec ts = { 0, 100 * 1000 * 1000 }; /* the port may still be closing */
		nanosleep(&ts, NULL);
	}
	if (ret == -EAFNOSUPPORT)
		snprintf(err, errlen, "ovs_vport new %s: the kernel has no vport type %u (for VXLAN "
			 "the vport-vxlan module, which modprobe loads on demand)", v->name, v->type);
	if (ret == 0)
		*v = out;
	return ret;
}

int odp_vport_set_upcall(struct odp_client *c, uint32_t port_no, char *err, size_t errlen)
{
	struct odp_vport v = { .dp_ifindex = c->dp_ifindex, .has_port_no = true,
			       .port_no = port_no, .npids = 1,
			       .pids = { nl_socket_get_local_port(c->upcall_sk) } };
	return vport_cmd(c, OVS_VPORT_CMD_SET, 0, &v, NULL, "ovs_vport set", err, errlen);
}

int odp_vport_get(struct odp_client *c, const char *name, struct odp_vport *out, char *err,
		  size_t errlen)
{
	struct odp_vport v = { .dp_ifindex = c->dp_ifindex };
	snprintf(v.name, sizeof(v.name), "%s", name);
	return vport_cmd(c, OVS_VPORT_CMD_GET, 0, &v, out, "ovs_vport get", err, errlen);
}

int odp_vport_del(struct odp_client *c, uint32_t port_no, char *err, size_t errlen)
{
	struct odp_vport v = { .dp_ifindex = c->dp_ifindex, .has_port_no = true,
			       .port_no = port_no };
	return vport_cmd(c, OVS_VPORT_CMD_DEL, 0, &v, NULL, "ovs_vport del", err, errlen);
}

int odp_flow_put(struct odp_client *c, const struct odp_flow *f, char *err, size_t errlen)
{
	struct request q = { .kind = REPLY_NONE };
	struct odp_flow g = *f;
	struct nl_msg *m = new_msg(err, errlen);
	if (!m)
		return -ENOMEM;
	g.dp_ifindex = c->dp_ifindex;
	if (odp_build_flow(m, c->fam_flow, OVS_FLOW_CMD_NEW, NLM_F_ACK | NLM_F_CREATE, &g) < 0) {
		nlmsg_free(m);
		snprintf(err, errlen, "ovs_flow new: cannot build the request");
		return -EINVAL;
	}
	int ret = transact(c, m, &q, "ovs_flow new", err, errlen);
	if (ret != -EEXIST)
		return ret;
	/* it exists: replace its actions */
	memset(&q, 0, sizeof(q));
	if (!(m = new_msg(err, errlen)))
		return -ENOMEM;
	if (odp_build_flow(m, c->fam_flow, OVS_FLOW_CMD_SET, NLM_F_ACK, &g) < 0) {
		nlmsg_free(m);
		return -EINVAL;
	}
	return transact(c, m, &q, "ovs_flow set", err, errlen);
}

int odp_flow_del(struct odp_client *c, const struct odp_flow_key *key,
		 const struct odp_flow_key *mask, char *err, size_t errlen)
{
	static struct odp_flow f;
	struct request q = { .kind = REPLY_NONE };
	struct nl_msg *m = new_msg(err, errlen);
	if (!m)
		return -ENOMEM;
	memset(&f, 0, sizeof(f));
	f.dp_ifindex = c->dp_ifindex;
	if (key) {
		f.has_key = true;
		f.key = *key;
	}
	if (mask) {
		f.has_mask = true;
		f.mask = *mask;
	}
	if (odp_build_flow(m, c->fam_flow, OVS_FLOW_CMD_DEL, NLM_F_ACK, &f) < 0) {
		nlmsg_free(m);
		return -EINVAL;
	}
	return transact(c, m, &q, key ? "ovs_flow del" : "ovs_flow flush", err, errlen);
}

int odp_flow_dump(struct odp_client *c, int (*fn)(void *arg, const struct odp_flow *f),
		  void *arg, char *err, size_t errlen)
{
	static struct odp_flow f;
	struct request q = { .kind = REPLY_FLOW, .each = fn, .each_arg = arg };
	struct nl_msg *m = new_msg(err, errlen);
	if (!m)
		return -ENOMEM;
	memset(&f, 0, sizeof(f));
	f.dp_ifindex = c->dp_ifindex;
	if (odp_build_flow(m, c->fam_flow, OVS_FLOW_CMD_GET, NLM_F_DUMP, &f) < 0) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	int ret = transact(c, m, &q, "ovs_flow dump", err, errlen);
	return ret < 0 ? ret : q.count;
}

int odp_execute(struct odp_client *c, const uint8_t *packet, size_t len,
		const struct odp_flow_key *key, const struct odp_actions *act, char *err,
		size_t errlen)
{
	struct request q = { .kind = REPLY_NONE };
	struct nl_msg *m = nlmsg_alloc_size(len + 4096);
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (odp_build_execute(m, c->fam_packet, c->dp_ifindex, packet, len, key, act) < 0) {
		nlmsg_free(m);
		snprintf(err, errlen, "ovs_packet execute: cannot build the request");
		return -EINVAL;
	}
	nlmsg_hdr(m)->nlmsg_flags |= NLM_F_ACK;
	return transact(c, m, &q, "ovs_packet execute", err, errlen);
}

int odp_upcall_fd(const struct odp_client *c)
{
	return nl_socket_get_fd(c->upcall_sk);
}

uint32_t odp_upcall_pid(const struct odp_client *c)
{
	return nl_socket_get_local_port(c->upcall_sk);
}

struct upcall_ctx {
	void (*fn)(void *arg, const struct odp_upcall *up);
	void *arg;
	int handled, max;
};

static int on_upcall(struct nl_msg *m, void *arg)
{
	struct upcall_ctx *u = arg;
	struct nlmsghdr *h = nlmsg_hdr(m);
	struct odp_upcall up;
	char why[ODP_WHY_LEN];
	if (odp_parse_upcall(h, h->nlmsg_len, &up, why, sizeof(why)) == 0 &&
	    up.cmd == OVS_PACKET_CMD_MISS) {
		u->fn(u->arg, &up);
		u->handled++;
	}
	return u->handled >= u->max ? NL_STOP : NL_OK;
}

int odp_upcall_recv(struct odp_client *c, int max,
		    void (*fn)(void *arg, const struct odp_upcall *up), void *arg)
{
	struct upcall_ctx u = { .fn = fn, .arg = arg, .max = max };
	struct nl_cb *cb = mesh_nl_clone_cb(c->upcall_sk);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_upcall, &u);
	while (u.handled < max) {
		int before = u.handled;
		int ret = nl_recvmsgs(c->upcall_sk, cb);
		if (ret < 0 || u.handled == before)
			break; /* -NLE_AGAIN: nothing more waiting */
	}
	nl_cb_put(cb);
	return u.handled;
}
